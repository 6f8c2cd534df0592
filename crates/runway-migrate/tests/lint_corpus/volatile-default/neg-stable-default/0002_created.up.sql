SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();
ALTER TABLE users ADD COLUMN status text DEFAULT 'new';
ALTER TABLE users ALTER COLUMN status SET DEFAULT md5(random()::text);
