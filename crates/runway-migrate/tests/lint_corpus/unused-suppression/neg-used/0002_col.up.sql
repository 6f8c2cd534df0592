SET lock_timeout = '2s';
-- runway-lint:allow-file index-not-concurrent: users has 40 rows, built in milliseconds
CREATE INDEX users_email_idx ON users (email);
