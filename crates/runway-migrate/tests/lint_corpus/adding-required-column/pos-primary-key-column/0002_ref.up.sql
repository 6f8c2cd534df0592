SET lock_timeout = '2s';
ALTER TABLE orders
    ADD COLUMN ref bigint PRIMARY KEY; -- expect: adding-required-column
