ALTER TABLE users ADD COLUMN nickname text; -- expect: missing-lock-timeout
ALTER TABLE users ADD COLUMN bio text;
