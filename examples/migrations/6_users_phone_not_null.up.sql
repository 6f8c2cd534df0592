-- Step 3c: with a valid CHECK in place, SET NOT NULL skips the full scan (PostgreSQL 12+).
ALTER TABLE users ALTER COLUMN phone SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_phone_not_null;
