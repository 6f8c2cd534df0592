SET lock_timeout = '2s';
-- runway-lint:requires-backup
DROP TABLE IF EXISTS orders;
CREATE TABLE tmp (id bigint);
DROP TABLE tmp;
