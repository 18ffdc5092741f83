-- PgVideoChat schema, version 6: recordings (docs/recordings.md).
--
-- A recording is a time range of one call. Starting and stopping it changes the call row (its `recording` column),
-- so that every participant learns who records through the slot like any other change of the call, in the same
-- transaction as the `recordings` row. The relay writes a frame once, into the live frame partitions, as always;
-- before a partition past the retention window is dropped, the partition rotation copies the recorded calls' rows
-- out of it into the recording's own partitions (a server-side INSERT … SELECT, off the ingest path). Deleting a
-- recording drops its partitions: its disk comes back at once, with no DELETE and no vacuum.
ALTER TABLE calls ADD COLUMN recording jsonb;

CREATE TABLE recordings (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_id          bigint NOT NULL REFERENCES calls (id),
    started_by       bigint NOT NULL REFERENCES users (id),
    started_at       timestamptz NOT NULL DEFAULT now(),
    stopped_by       bigint REFERENCES users (id),
    stopped_at       timestamptz,
    -- Frames stored before these have been copied into the recording's partitions; those after them are still in
    -- the live partitions. Each moves forward in the transaction that copies, so a retried copy never doubles a frame.
    video_copied_until  timestamptz NOT NULL DEFAULT '-infinity',
    audio_copied_until  timestamptz NOT NULL DEFAULT '-infinity',
    expires_at       timestamptz NOT NULL,
    CHECK (stopped_at IS NULL OR stopped_at >= started_at)
);
-- A call is recorded by at most one recording at a time.
CREATE UNIQUE INDEX recordings_one_active ON recordings (call_id) WHERE stopped_at IS NULL;
CREATE INDEX recordings_call_id ON recordings (call_id);
CREATE INDEX recordings_expires_at ON recordings (expires_at);

-- The recorded frames, one list partition per recording (created by the rotation on its first copy). The columns
-- are the live tables' columns, with the recording first; the index serves the replay's reading in time order.
CREATE TABLE recorded_video_frames (
    recording_id  bigint NOT NULL,
    call_id       bigint NOT NULL,
    sender_id     bigint NOT NULL,
    sequence      bigint NOT NULL,
    capture_us    bigint NOT NULL,
    received_us   bigint NOT NULL,
    width         integer NOT NULL,
    height        integer NOT NULL,
    payload       bytea NOT NULL,
    stored_at     timestamptz NOT NULL
) PARTITION BY LIST (recording_id);
ALTER TABLE recorded_video_frames ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE INDEX recorded_video_frames_time ON recorded_video_frames (recording_id, received_us);

CREATE TABLE recorded_audio_frames (
    recording_id  bigint NOT NULL,
    call_id       bigint NOT NULL,
    sender_id     bigint NOT NULL,
    sequence      bigint NOT NULL,
    capture_us    bigint NOT NULL,
    received_us   bigint NOT NULL,
    channels      integer NOT NULL,
    sample_rate   integer NOT NULL,
    payload       bytea NOT NULL,
    stored_at     timestamptz NOT NULL
) PARTITION BY LIST (recording_id);
ALTER TABLE recorded_audio_frames ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE INDEX recorded_audio_frames_time ON recorded_audio_frames (recording_id, received_us);
