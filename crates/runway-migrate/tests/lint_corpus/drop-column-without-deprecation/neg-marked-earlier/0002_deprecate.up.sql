-- runway-lint:deprecated column users.legacy
COMMENT ON COLUMN users.email IS 'deprecated: use contacts.email';
