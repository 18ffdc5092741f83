-- PgVideoChat schema, version 1. Applied once, in one transaction, under an advisory lock.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    display_name  text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 64),
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per open WebSocket, owned by the relay instance that holds it; a relay deletes its own
-- rows when it starts (a crashed relay's connections are gone).
CREATE TABLE connections (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id),
    relay_id      text NOT NULL,
    connected_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connections_user_id ON connections (user_id);
CREATE INDEX connections_relay_id ON connections (relay_id);

-- Published: one row per user, updated only when the user goes online or offline.
CREATE TABLE presence (
    user_id       bigint PRIMARY KEY REFERENCES users (id),
    display_name  text NOT NULL,
    online        boolean NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION presence_follow_connections() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    affected bigint := COALESCE(NEW.user_id, OLD.user_id);
    is_online boolean := EXISTS (SELECT 1 FROM connections WHERE user_id = affected);
BEGIN
    INSERT INTO presence (user_id, display_name, online)
    SELECT u.id, u.display_name, is_online FROM users u WHERE u.id = affected
    ON CONFLICT (user_id) DO UPDATE
        SET online = EXCLUDED.online, display_name = EXCLUDED.display_name, updated_at = now()
        WHERE presence.online IS DISTINCT FROM EXCLUDED.online;
    RETURN NULL;
END $$;

CREATE TRIGGER connections_presence AFTER INSERT OR DELETE ON connections
    FOR EACH ROW EXECUTE FUNCTION presence_follow_connections();

-- Published: a call row carries its participants as the wire's JSON so that a replicated row is
-- routable on its own (the relay never queries the database while fanning out).
CREATE TABLE calls (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('direct', 'group')),
    state         text NOT NULL CHECK (state IN ('ringing', 'active', 'ended', 'declined', 'missed', 'cancelled')),
    created_by    bigint NOT NULL REFERENCES users (id),
    version       bigint NOT NULL DEFAULT 1,
    participants  jsonb NOT NULL DEFAULT '[]',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz
);
CREATE INDEX calls_ringing ON calls (created_at) WHERE state = 'ringing';

CREATE TABLE call_participants (
    call_id       bigint NOT NULL REFERENCES calls (id),
    user_id       bigint NOT NULL REFERENCES users (id),
    state         text NOT NULL CHECK (state IN ('invited', 'joined', 'declined', 'left')),
    audio         boolean NOT NULL DEFAULT true,
    video         boolean NOT NULL DEFAULT true,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (call_id, user_id)
);
CREATE INDEX call_participants_user_id ON call_participants (user_id);

-- Published, insert-only.
CREATE TABLE chat_messages (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id       bigint REFERENCES calls (id),
    to_user       bigint REFERENCES users (id),
    from_user     bigint NOT NULL REFERENCES users (id),
    from_name     text NOT NULL,
    body          text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 4000),
    client_msg_id text,
    sent_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((call_id IS NULL) <> (to_user IS NULL))
);
CREATE UNIQUE INDEX chat_messages_client_msg_id ON chat_messages (from_user, client_msg_id) WHERE client_msg_id IS NOT NULL;
CREATE INDEX chat_messages_call_id ON chat_messages (call_id, id) WHERE call_id IS NOT NULL;
CREATE INDEX chat_messages_direct ON chat_messages (to_user, from_user, id) WHERE to_user IS NOT NULL;

-- Published, insert-only, partitioned by the time the relay received the frame so that retention
-- drops whole partitions (no DELETE, no vacuum). Payload columns are stored EXTERNAL: JPEG and PCM
-- do not compress, and skipping the attempt doubles write throughput.
CREATE TABLE video_frames (
    call_id       bigint NOT NULL,
    sender_id     bigint NOT NULL,
    sequence      bigint NOT NULL,
    capture_us    bigint NOT NULL,
    received_us   bigint NOT NULL,
    width         integer NOT NULL,
    height        integer NOT NULL,
    payload       bytea NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (stored_at);
ALTER TABLE video_frames ALTER COLUMN payload SET STORAGE EXTERNAL;

CREATE TABLE audio_frames (
    call_id       bigint NOT NULL,
    sender_id     bigint NOT NULL,
    sequence      bigint NOT NULL,
    capture_us    bigint NOT NULL,
    received_us   bigint NOT NULL,
    channels      integer NOT NULL,
    sample_rate   integer NOT NULL,
    payload       bytea NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (stored_at);
ALTER TABLE audio_frames ALTER COLUMN payload SET STORAGE EXTERNAL;

-- Relay instances report here; the slot watchdog uses it.
CREATE TABLE relay_instances (
    relay_id      text PRIMARY KEY,
    slot_name     text NOT NULL,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);

CREATE PUBLICATION pgvideochat FOR TABLE presence, calls, chat_messages, video_frames, audio_frames
    WITH (publish = 'insert, update', publish_via_partition_root = true);
