-- Step 2: backfill.
UPDATE users SET phone = '' WHERE phone IS NULL;
