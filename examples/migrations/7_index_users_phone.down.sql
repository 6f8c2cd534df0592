-- runway: no-transaction
DROP INDEX CONCURRENTLY IF EXISTS users_phone_idx;
