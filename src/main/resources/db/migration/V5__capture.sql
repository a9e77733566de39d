-- Capture levels (SPEC §10): how much of a job's events is kept, and what was dropped.
--  * job.capture: the level its events were taken at (set at launch, or by the first ingest with a token that has one).
--  * job.capture_dropped_events / _bytes: events that lost stdout or event_data to the level, and the UTF-8 bytes
--    that were not stored (counted when the event is committed, so a redelivered duplicate does not count twice).
--  * auth_token.capture: the level every event written with that token is taken at; NULL = full.
ALTER TABLE job ADD COLUMN capture text NOT NULL DEFAULT 'full'
    CHECK (capture IN ('full', 'no_event_data', 'summary'));
ALTER TABLE job ADD COLUMN capture_dropped_events bigint NOT NULL DEFAULT 0;
ALTER TABLE job ADD COLUMN capture_dropped_bytes bigint NOT NULL DEFAULT 0;
ALTER TABLE auth_token ADD COLUMN capture text
    CHECK (capture IS NULL OR capture IN ('full', 'no_event_data', 'summary'));
