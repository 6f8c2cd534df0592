-- no-transaction
CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
REINDEX INDEX CONCURRENTLY users_email_idx;
