SET lock_timeout = '2s';
TRUNCATE orders; -- expect: destructive-without-backup
DELETE FROM orders; -- expect: destructive-without-backup
UPDATE users SET email = lower(email); -- expect: destructive-without-backup
ALTER TABLE users DROP COLUMN legacy; -- expect: destructive-without-backup
DROP SCHEMA reporting CASCADE; -- expect: destructive-without-backup
