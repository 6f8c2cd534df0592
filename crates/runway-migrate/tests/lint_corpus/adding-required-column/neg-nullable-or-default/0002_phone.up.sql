SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN phone text;
ALTER TABLE users ADD COLUMN country text NOT NULL DEFAULT 'NL';
CREATE TABLE notes (id bigint);
ALTER TABLE notes ADD COLUMN body text NOT NULL;
