ALTER TABLE tasks DROP COLUMN owner_id;
