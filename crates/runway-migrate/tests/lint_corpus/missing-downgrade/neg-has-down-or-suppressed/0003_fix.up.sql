-- runway-lint:allow-file missing-downgrade: one-off data repair, restore from backup to undo
-- runway-lint:requires-backup
UPDATE users SET email = lower(email) WHERE email <> lower(email);
