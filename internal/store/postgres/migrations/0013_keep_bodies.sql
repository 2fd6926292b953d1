-- A purpose may keep the (sealed) text of its sent messages until the
-- tenant's message-body retention ends; off by default.
ALTER TABLE purposes ADD COLUMN keep_bodies BOOLEAN NOT NULL DEFAULT false;
