SET lock_timeout = '2s';
/* expect: invalid-suppression */ -- runway-lint:allow rename-column
ALTER TABLE users RENAME COLUMN legacy TO old;
