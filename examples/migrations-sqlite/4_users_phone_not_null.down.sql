CREATE TABLE users_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    email TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    phone VARCHAR(20)
);
INSERT INTO users_old (id, email, created_at, phone) SELECT id, email, created_at, phone FROM users;
DROP TABLE users;
ALTER TABLE users_old RENAME TO users;
