SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id); -- expect: constraint-missing-not-valid
ALTER TABLE orders ADD CONSTRAINT orders_amount_check CHECK (amount > 0); -- expect: constraint-missing-not-valid
