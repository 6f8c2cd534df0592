SET lock_timeout = '2s';
CREATE TABLE drafts (id bigint, txt text);
ALTER TABLE drafts RENAME COLUMN txt TO body;
-- runway-lint:allow rename-column: the column has been unused since v1.3 and no client reads it
ALTER TABLE users RENAME COLUMN legacy TO legacy_old;
ALTER TABLE users RENAME CONSTRAINT users_pkey TO users_pk;
