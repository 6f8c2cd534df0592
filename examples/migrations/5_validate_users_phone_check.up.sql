-- Step 3b: validating scans the table under SHARE UPDATE EXCLUSIVE: reads and writes go on.
-- runway: statement_timeout=10min
ALTER TABLE users VALIDATE CONSTRAINT users_phone_not_null;
