SET lock_timeout = '2s';
ALTER TABLE users RENAME COLUMN legacy TO old; -- runway-lint:allow rename-column: nothing reads it
