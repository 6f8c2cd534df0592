-- Step 3a: a NOT VALID check takes its lock only briefly and scans nothing.
ALTER TABLE users ADD CONSTRAINT users_phone_not_null CHECK (phone IS NOT NULL) NOT VALID;
