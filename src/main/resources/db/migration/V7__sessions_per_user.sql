-- Issue 13 (fair share): a user's sessions are bounded (auth.max-sessions-per-user); each login ends the user's
-- oldest sessions beyond it, which reads the user's sessions newest first: this index serves that read.
CREATE INDEX auth_session_user_idx ON auth_session (user_id, expires);
