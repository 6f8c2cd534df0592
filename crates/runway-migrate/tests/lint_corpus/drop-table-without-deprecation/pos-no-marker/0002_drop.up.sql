SET lock_timeout = '2s';
-- runway-lint:requires-backup
DROP TABLE orders; -- expect: drop-table-without-deprecation
