-- Retention and the storage report (SPEC §10, issue 17).
--  * events_expired: the job's events (and stdout) were deleted by retention; the row, its counts and host summary
--    stay, and the API says so instead of answering with an empty job.
--  * stored_bytes: bytes of stdout and event_data the job's stored events hold (octet_length, as sent), kept by the
--    receiver in the same transaction as the rows, so the storage report names the largest jobs and playbooks
--    without reading their events.
--  * The layout stays RANGE (job_id) in blocks of 1000 (ARCHITECTURE.md "Retention" says why): expiring a block
--    whose jobs all finished before the cutoff truncates or drops that one partition; other expired jobs are deleted
--    in small batches.
ALTER TABLE job ADD COLUMN events_expired boolean NOT NULL DEFAULT false;
ALTER TABLE job ADD COLUMN stored_bytes bigint NOT NULL DEFAULT 0;

-- Retention looks up finished jobs by when they finished (jobs still running have finished IS NULL).
CREATE INDEX job_finished_idx ON job (finished) WHERE finished IS NOT NULL;

-- Existing jobs: their bytes, once (a pass over the stored events at upgrade).
UPDATE job j SET stored_bytes = s.bytes
FROM (SELECT job_id, sum(octet_length(stdout) + octet_length(event_data))::bigint AS bytes
      FROM job_event GROUP BY job_id) s
WHERE j.id = s.job_id;
