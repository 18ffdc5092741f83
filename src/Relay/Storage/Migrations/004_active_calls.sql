-- PgVideoChat schema, version 4: the relays look for participants who left active calls by going offline
-- (Relay:AbandonedParticipantAfter) every 2 s; this keeps that a look at the active calls only, however many calls
-- have ever ended.
CREATE INDEX calls_active ON calls (id) WHERE state = 'active';
