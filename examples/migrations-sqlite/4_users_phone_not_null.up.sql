-- Step 3: NOT NULL. SQLite cannot alter a column, so the table is rebuilt in one transaction.
CREATE TABLE users_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    phone VARCHAR(20) NOT NULL
);
INSERT INTO users_new (id, email, created_at, phone) SELECT id, email, created_at, phone FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
