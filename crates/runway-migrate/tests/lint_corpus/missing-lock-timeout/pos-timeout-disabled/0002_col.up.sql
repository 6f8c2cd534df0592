SET lock_timeout = 0;
ALTER TABLE users ADD COLUMN nickname text; -- expect: missing-lock-timeout
