-- Issue 19 (SPEC §11): a narrow, unpartitioned copy of what the run-analysis endpoints and the cross-job search read,
-- written by the receiver in the same transaction as the job_event rows (so the two never disagree).
--  * Cross-job search (GET /api/v2/job_events/?host_name=&changed=&failed=&event=) walks one of the indexes below
--    newest first ((job_id, counter) descending) and stops after a page: no scan of every job_event partition,
--    which an index per partition would need (one probe per partition, then a sort).
--  * Timeline, host summaries and compare read a job's rows here by the primary key: about 100 bytes a row instead
--    of job_event's rows with their stdout and event_data (kilobytes), so a 400,000-event job reads in a fraction.
-- task_uuid: the event's own uuid for a task start, its parent_uuid (the task it ran in) for the others.
-- play and task are kept on task starts only (the timeline names tasks from them); empty on the rest.
-- created_us: the event's created in microseconds since the epoch: the timeline reads 400,000 of them for a job of
-- 1,000 hosts x 200 tasks, and converting timestamptz per row showed in its time.
-- Whoever deletes job_event rows (retention) deletes the job's rows here too.
CREATE TABLE job_event_index (
    job_id    bigint      NOT NULL,
    counter   integer     NOT NULL,
    event     text        NOT NULL,
    host_name text        NOT NULL,
    task_uuid text        NOT NULL,
    play      text        NOT NULL,
    task      text        NOT NULL,
    changed   boolean     NOT NULL,
    failed    boolean     NOT NULL,
    created_us bigint     NOT NULL,
    PRIMARY KEY (job_id, counter)
);

CREATE INDEX job_event_index_host_idx ON job_event_index (host_name, job_id, counter) WHERE host_name <> '';
-- Only the rarer event types get an event index: the common ones (PostgresEventSearch.COMMON_EVENTS, ~90% of a real
-- run) are found at once by walking the primary key backwards, and an index over every event cost ~2 us of PostgreSQL
-- CPU per event at ingest (bench/ingest, quiet machine: 72k events/s with it, 85k without). The predicate is repeated
-- word for word in the search's SQL, so that even a generic plan can use it.
CREATE INDEX job_event_index_rare_event_idx ON job_event_index (event, job_id, counter)
    WHERE event NOT IN ('runner_on_start', 'runner_on_ok', 'runner_item_on_ok', 'runner_on_skipped',
                        'runner_item_on_skipped', 'playbook_on_task_start', 'verbose');
-- changed and failed results are a few percent of all events: small partial indexes, cheap to write
CREATE INDEX job_event_index_changed_idx ON job_event_index (job_id, counter) WHERE changed;
CREATE INDEX job_event_index_failed_idx ON job_event_index (job_id, counter) WHERE failed;
-- "which runs changed host X" (issue 19's question) without walking every event of host X to find the changed ones
CREATE INDEX job_event_index_host_changed_idx ON job_event_index (host_name, job_id, counter)
    WHERE changed AND host_name <> '';

-- events stored before this version
INSERT INTO job_event_index (job_id, counter, event, host_name, task_uuid, play, task, changed, failed, created_us)
SELECT job_id, counter, event, host_name,
       CASE WHEN event IN ('playbook_on_task_start', 'playbook_on_handler_task_start') THEN uuid ELSE parent_uuid END,
       CASE WHEN event IN ('playbook_on_task_start', 'playbook_on_handler_task_start') THEN play ELSE '' END,
       CASE WHEN event IN ('playbook_on_task_start', 'playbook_on_handler_task_start') THEN task ELSE '' END,
       changed, failed, (extract(epoch FROM created) * 1000000)::bigint
FROM job_event;
