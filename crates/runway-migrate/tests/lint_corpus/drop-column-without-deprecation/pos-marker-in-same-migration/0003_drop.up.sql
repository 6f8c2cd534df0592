SET lock_timeout = '2s';
-- runway-lint:requires-backup
-- runway-lint:deprecated column users.legacy
ALTER TABLE users DROP COLUMN legacy; -- expect: drop-column-without-deprecation
