-- Issue 15: job_event's large text values are compressed with lz4 where the server has it, instead of pglz.
-- On the recorded real run (median event 1.2 KB, p99 32 KB), PostgreSQL's pglz_compress was 42% of the receiver
-- backend's CPU. COPY of its event_data and stdout on PostgreSQL 15 (Debian's build, which has lz4), backend CPU per
-- event: pglz 11.7-12.3 us, lz4 4.2-4.6 us; stored 1,106 against 1,136 bytes per event (docs/BENCHMARKS.md 1c).
-- Only the compression of new values changes: rows already stored stay as they are (both are read transparently).
-- A server built without lz4 (the embedded one is) keeps pglz; nothing else depends on which one is used.
-- Partitions created later take the parent's setting; the parent's ALTER does not reach the existing ones (checked on
-- PostgreSQL 15), so they are altered one by one (a catalog change: nothing is rewritten).
DO $$
DECLARE
    t regclass;
BEGIN
    IF 'lz4' = ANY (SELECT unnest(enumvals) FROM pg_settings WHERE name = 'default_toast_compression') THEN
        FOR t IN SELECT 'job_event'::regclass UNION ALL
                 SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'job_event'::regclass LOOP
            EXECUTE format('ALTER TABLE %s ALTER COLUMN event_data SET COMPRESSION lz4,'
                           ' ALTER COLUMN stdout SET COMPRESSION lz4', t);
        END LOOP;
    END IF;
END
$$;
