-- Issue 19 (SPEC §11): the run model of a finished job, kept so that a node that has not built it (restarted, the
-- cluster's other node, or one that evicted it from its memory cache) reads one row instead of the job's ~400,000
-- job_event_index rows (a 1,000 hosts x 200 tasks job: ~1 s to read and build, against a few tens of ms to read and
-- decode this). RunModelCodec writes and reads the blob; StoredRunModels decides when.
--  * format: the codec's version; a row of another version is ignored and replaced by a rebuild (never migrated).
--  * event_rows / max_counter: the job_event_index rows the model was built from and the highest counter among them.
--    A reader catches up from max_counter and rebuilds when the job has stored more events than event_rows (an
--    event that came late below max_counter), as for a model in memory: a stale row is ignored, then replaced.
--  * model: gzip-compressed (already compressed, so stored EXTERNAL: PostgreSQL does not try pglz on it again).
-- Written only while the job is finished, not expired, and still has exactly event_rows stored events (the INSERT
-- checks it). Retention deletes the row with the job's index rows; deleting the job deletes it too (cascade).
CREATE TABLE job_run_model (
    job_id      bigint      PRIMARY KEY REFERENCES job (id) ON DELETE CASCADE,
    format      smallint    NOT NULL,
    event_rows  integer     NOT NULL,
    max_counter integer     NOT NULL,
    model       bytea       NOT NULL,
    saved       timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE job_run_model ALTER COLUMN model SET STORAGE EXTERNAL;
