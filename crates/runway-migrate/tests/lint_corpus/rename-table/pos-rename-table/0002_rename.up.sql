SET lock_timeout = '2s';
ALTER TABLE orders RENAME TO purchases; -- expect: rename-table
