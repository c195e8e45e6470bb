-- The owner a task was assigned to: the daily task budget counts per owner.
ALTER TABLE tasks ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
