ALTER TABLE users DROP CONSTRAINT users_phone_not_null;
