-- Step 2: backfill, once code that writes phone numbers is deployed.
UPDATE users SET phone = '' WHERE phone IS NULL;
