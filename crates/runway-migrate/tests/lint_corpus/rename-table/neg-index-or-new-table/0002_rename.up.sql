SET lock_timeout = '2s';
ALTER INDEX old_idx RENAME TO orders_amount_idx;
CREATE TABLE tmp (id bigint);
ALTER TABLE tmp RENAME TO scratch;
