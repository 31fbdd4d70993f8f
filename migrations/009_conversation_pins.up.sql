-- A person pins the conversations they keep coming back to; the web client lists them first.
ALTER TABLE conversations ADD COLUMN pinned boolean NOT NULL DEFAULT false;
