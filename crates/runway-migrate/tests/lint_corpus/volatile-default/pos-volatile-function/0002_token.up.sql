SET lock_timeout = '2s';
ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid(); -- expect: volatile-default
ALTER TABLE users ADD COLUMN salt float8 DEFAULT (random() * 10); -- expect: volatile-default
