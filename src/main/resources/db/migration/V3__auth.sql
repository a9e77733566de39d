-- Users, teams, sessions and tokens (SPEC §8), and who may see which job.
--  * auth_user.password is Django's encoded form, pbkdf2_sha256$<iterations>$<salt>$<hash>, so AWX admins recognise it.
--  * Sessions and tokens are stored as SHA-256 hashes of the secret the client holds: a copy of the database does not
--    let anyone in. They live here, not in one node's memory, so every node of a cluster accepts them.
--  * A job is visible to superusers, to its owner (who launched it, or whose credential ingested its first event),
--    and to the members of the teams it is shared with. Jobs without owner (demo, emitter tokens) are admin-only.

CREATE TABLE auth_user (
    id           bigserial   PRIMARY KEY,
    username     text        NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9@.+_-]{1,150}$'),
    password     text        NOT NULL,
    is_superuser boolean     NOT NULL DEFAULT false,
    created      timestamptz NOT NULL DEFAULT now(),
    modified     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_team (
    id      bigserial   PRIMARY KEY,
    name    text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 512),
    created timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_team_member (
    team_id bigint NOT NULL REFERENCES auth_team (id) ON DELETE CASCADE,
    user_id bigint NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX auth_team_member_user_idx ON auth_team_member (user_id);

CREATE TABLE auth_session (
    key_hash bytea       PRIMARY KEY,
    user_id  bigint      NOT NULL REFERENCES auth_user (id) ON DELETE CASCADE,
    created  timestamptz NOT NULL DEFAULT now(),
    expires  timestamptz NOT NULL
);
CREATE INDEX auth_session_expires_idx ON auth_session (expires);

-- kind 'api': acts as its user on the API. kind 'ingest': may only write events, for job_id (NULL = every job).
-- user_id is NULL for tokens the node issues itself (a launched job's plugin, the demo replay).
CREATE TABLE auth_token (
    id          bigserial   PRIMARY KEY,
    token_hash  bytea       NOT NULL UNIQUE,
    user_id     bigint      REFERENCES auth_user (id) ON DELETE CASCADE,
    kind        text        NOT NULL CHECK (kind IN ('api', 'ingest')),
    job_id      bigint,
    description text        NOT NULL DEFAULT '',
    created     timestamptz NOT NULL DEFAULT now(),
    expires     timestamptz,
    CHECK (kind = 'ingest' OR job_id IS NULL)
);
CREATE INDEX auth_token_user_idx ON auth_token (user_id);
CREATE INDEX auth_token_job_idx ON auth_token (job_id) WHERE job_id IS NOT NULL;

ALTER TABLE job ADD COLUMN owner_id bigint REFERENCES auth_user (id) ON DELETE SET NULL;
CREATE INDEX job_owner_idx ON job (owner_id) WHERE owner_id IS NOT NULL;

CREATE TABLE job_team (
    job_id  bigint NOT NULL REFERENCES job (id) ON DELETE CASCADE,
    team_id bigint NOT NULL REFERENCES auth_team (id) ON DELETE CASCADE,
    PRIMARY KEY (job_id, team_id)
);
CREATE INDEX job_team_team_idx ON job_team (team_id);
