SET lock_timeout = '2s';
ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx;
CREATE TABLE tokens (t text);
ALTER TABLE tokens ADD CONSTRAINT tokens_t_key UNIQUE (t);
