-- runway: no-transaction
-- An index for lookups by phone, built without blocking writes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS users_phone_idx ON users (phone);
