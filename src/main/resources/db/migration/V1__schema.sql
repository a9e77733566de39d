-- jobstream schema, modelled on AWX's main_unifiedjob/main_job and main_jobevent (reference §3).
-- Differences from AWX, on purpose:
--  * job_event is partitioned by RANGE (job_id), 1000 jobs per partition, so that a job's events live together,
--    (job_id, counter) can be the primary key (a partitioned table's keys must contain the partition key), and old
--    jobs are dropped cheaply by dropping a partition.
--  * (job_id, counter) is unique: a redelivered event is a duplicate, never a second row (AWX has no such key).
--  * ids come from job_event_id_seq in blocks of 1000 (INCREMENT BY 1000), so a node allocates ids for a whole
--    COPY with one nextval and can put them in websocket messages without RETURNING.
--  * event_data is text holding JSON, as AWX stores it: COPY writes it without jsonb parsing.
--  * received is the hop time at which a node decoded the event (created = emitter, modified = commit).

CREATE TABLE job (
    id                        bigint PRIMARY KEY,
    name                      text        NOT NULL DEFAULT '',
    playbook                  text        NOT NULL DEFAULT '',
    status                    text        NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'pending', 'waiting', 'running', 'successful', 'failed', 'error', 'canceled')),
    failed                    boolean     NOT NULL DEFAULT false,
    created                   timestamptz NOT NULL DEFAULT now(),
    modified                  timestamptz NOT NULL DEFAULT now(),
    started                   timestamptz,
    finished                  timestamptz,
    job_explanation           text        NOT NULL DEFAULT '',
    -- AWX's emitted_events: how many events the emitter sent (set from EOF's final_counter).
    emitted_events            integer     NOT NULL DEFAULT 0,
    final_counter             integer,
    -- distinct counters stored; equals final_counter once every event has arrived.
    stored_events             integer     NOT NULL DEFAULT 0,
    event_processing_finished boolean     NOT NULL DEFAULT false,
    host_status_counts        jsonb,
    play_count                integer     NOT NULL DEFAULT 0,
    task_count                integer     NOT NULL DEFAULT 0,
    -- created time of the newest stored event and the commit lag of the last batch, for the jobs list.
    last_event_created        timestamptz,
    last_lag_ms               double precision
);

-- Jobs created through the API take ids from here; jobs first seen through ingest keep the emitter's id.
CREATE SEQUENCE job_id_seq;

CREATE SEQUENCE job_event_id_seq INCREMENT BY 1000;

CREATE TABLE job_event (
    id          bigint      NOT NULL,
    job_id      bigint      NOT NULL,
    counter     integer     NOT NULL CHECK (counter >= 1),
    uuid        text        NOT NULL DEFAULT '',
    parent_uuid text        NOT NULL DEFAULT '',
    event       text        NOT NULL,
    event_data  text        NOT NULL DEFAULT '{}',
    failed      boolean     NOT NULL DEFAULT false,
    changed     boolean     NOT NULL DEFAULT false,
    playbook    text        NOT NULL DEFAULT '',
    play        text        NOT NULL DEFAULT '',
    role        text        NOT NULL DEFAULT '',
    task        text        NOT NULL DEFAULT '',
    host_name   text        NOT NULL DEFAULT '',
    stdout      text        NOT NULL DEFAULT '',
    start_line  integer     NOT NULL DEFAULT 0 CHECK (start_line >= 0),
    end_line    integer     NOT NULL DEFAULT 0 CHECK (end_line >= 0),
    verbosity   integer     NOT NULL DEFAULT 0 CHECK (verbosity >= 0),
    created     timestamptz NOT NULL,
    modified    timestamptz NOT NULL,
    received    timestamptz NOT NULL,
    PRIMARY KEY (job_id, counter)
) PARTITION BY RANGE (job_id);

-- job_events/{id}/ looks events up by id alone.
CREATE INDEX job_event_id_idx ON job_event (id);

-- Messages that could not be stored even alone (a poison event): kept with the reason, never silently lost.
CREATE TABLE parked_message (
    id       bigserial   PRIMARY KEY,
    parked   timestamptz NOT NULL DEFAULT now(),
    job_id   bigint,
    counter  integer,
    reason   text        NOT NULL,
    message  text        NOT NULL
);
