-- runway: no-transaction
BEGIN;
DROP INDEX CONCURRENTLY old_idx; -- expect: concurrent-in-transaction
COMMIT;
