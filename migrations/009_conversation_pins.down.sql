ALTER TABLE conversations DROP COLUMN IF EXISTS pinned;
