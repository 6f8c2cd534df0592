SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN phone text NOT NULL; -- expect: adding-required-column
