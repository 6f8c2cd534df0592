SET lock_timeout = '2s';
CREATE TABLE tags (id bigint, name text);
ALTER TABLE tags ALTER COLUMN name SET NOT NULL;
