CREATE TABLE users (
    id bigint PRIMARY KEY,
    email text,
    legacy text
);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    user_id bigint,
    amount numeric
);
CREATE INDEX old_idx ON orders (amount);
