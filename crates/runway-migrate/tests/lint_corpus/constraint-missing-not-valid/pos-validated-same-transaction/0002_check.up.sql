SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_amount_check CHECK (amount > 0) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_check; -- expect: constraint-missing-not-valid
