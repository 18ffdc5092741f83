-- PgVideoChat schema, version 3: shard routing (Relay:Sharding:Enabled, docs/notes/sharding.md).
--
-- With fan-out-to-all every relay's slot sends every frame and the relay skips most of them. With shard routing a
-- frame row carries the set of relay shards its recipients are connected to, and each relay's slot reads the media
-- tables through its own publication, whose row filter passes only the rows with its bit: the walsender still
-- decodes every row, but sends a relay only the frames its clients receive.
--
-- -1 (every bit) is the default: rows written by a relay without shard routing reach every relay, as before. Adding
-- a column with a constant default only changes the catalog (no table rewrite).
ALTER TABLE video_frames ADD COLUMN recipient_shards bigint NOT NULL DEFAULT -1;
ALTER TABLE audio_frames ADD COLUMN recipient_shards bigint NOT NULL DEFAULT -1;

-- The shard of the relay that holds the socket (NULL: a relay without shard routing, which needs every frame). A
-- sharded relay learns from these rows, through its slot, which relays a call's participants are on.
ALTER TABLE connections ADD COLUMN relay_shard integer CHECK (relay_shard BETWEEN 0 AND 62);

-- What every sharded relay reads besides its media publication. The media tables must not be in it: a table in two
-- publications of one slot is sent when either publication's row filter passes.
CREATE PUBLICATION pgvideochat_control FOR TABLE presence, calls, chat_messages, connections
    WITH (publish = 'insert, update');
