SET lock_timeout = '2s';
-- runway-lint:requires-backup
ALTER TABLE users DROP COLUMN legacy; -- expect: drop-column-without-deprecation
