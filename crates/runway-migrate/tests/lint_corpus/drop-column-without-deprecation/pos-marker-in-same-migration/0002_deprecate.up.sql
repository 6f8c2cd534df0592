-- runway-lint:deprecated column users.email
SELECT 1;
