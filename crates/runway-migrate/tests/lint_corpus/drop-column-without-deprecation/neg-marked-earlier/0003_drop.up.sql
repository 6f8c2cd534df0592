SET lock_timeout = '2s';
-- runway-lint:requires-backup
ALTER TABLE users DROP COLUMN legacy;
ALTER TABLE public.users DROP COLUMN email;
