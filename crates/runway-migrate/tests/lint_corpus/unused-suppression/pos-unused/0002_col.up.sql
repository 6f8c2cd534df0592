SET lock_timeout = '2s';
/* expect: unused-suppression */ -- runway-lint:allow rename-column: left over
ALTER TABLE users ADD COLUMN nickname text;
