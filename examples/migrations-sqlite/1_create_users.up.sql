-- The users table of the runbook's example (SQLite flavour of ../migrations).
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO users (email) VALUES ('ada@example.com'), ('grace@example.com');
