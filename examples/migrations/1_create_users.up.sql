-- The users table of the runbook's example, with two rows so the backfill has work to do.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO users (email) VALUES ('ada@example.com'), ('grace@example.com');
