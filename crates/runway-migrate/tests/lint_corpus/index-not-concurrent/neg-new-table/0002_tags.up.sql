CREATE TABLE tags (id bigint, name text);
CREATE INDEX tags_name_idx ON tags (name);
