SET lock_timeout = '2s';
ALTER TABLE users RENAME COLUMN legacy TO old; /* expect: invalid-suppression */ -- runway-lint:allow rename-colum: typo
