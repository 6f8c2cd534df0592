SET lock_timeout = '2s';
CREATE UNIQUE INDEX users_email_key ON users (email); -- expect: index-not-concurrent
DROP INDEX old_idx; -- expect: index-not-concurrent
