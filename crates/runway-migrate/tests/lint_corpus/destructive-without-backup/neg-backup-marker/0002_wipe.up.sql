-- runway-lint:requires-backup
SET lock_timeout = '2s';
TRUNCATE orders;
DELETE FROM orders;
