-- A purpose may keep the (sealed) text of its sent messages until the
-- tenant's message-body retention ends; off by default.
ALTER TABLE purposes ADD COLUMN keep_bodies INTEGER NOT NULL DEFAULT 0;
