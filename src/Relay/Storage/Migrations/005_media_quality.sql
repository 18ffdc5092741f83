-- PgVideoChat schema, version 5: a relay that drops a sender's frames asks that sender to step its video down (or
-- back up) by a row here, so the advice reaches the sender through its own relay's slot like every other event, even
-- when the sender is connected to another relay (docs/protocol.md, media.quality). Rows are small and rare; the
-- relays delete those older than ten minutes.
CREATE TABLE media_quality (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id       bigint NOT NULL,
    sender_id     bigint NOT NULL,
    relay_id      text NOT NULL,
    level         integer NOT NULL CHECK (level BETWEEN 0 AND 3),
    reason        text NOT NULL,
    decided_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX media_quality_decided_at ON media_quality (decided_at);

ALTER PUBLICATION pgvideochat ADD TABLE media_quality;
ALTER PUBLICATION pgvideochat_control ADD TABLE media_quality;
