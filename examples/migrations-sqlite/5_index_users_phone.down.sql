DROP INDEX users_phone_idx;
