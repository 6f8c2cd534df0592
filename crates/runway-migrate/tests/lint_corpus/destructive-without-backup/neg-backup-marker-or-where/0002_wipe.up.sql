SET lock_timeout = '2s';
DELETE FROM orders WHERE amount IS NULL;
UPDATE users SET email = lower(email) WHERE id < 100;
CREATE TABLE staging (id bigint);
TRUNCATE staging;
