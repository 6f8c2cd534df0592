CREATE TABLE audit (id bigint);
ALTER TABLE audit ADD COLUMN at timestamptz;
ALTER TABLE orders VALIDATE CONSTRAINT orders_pkey;
