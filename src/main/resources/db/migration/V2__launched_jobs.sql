-- Jobs launched by this node (POST /api/v2/jobs/) get their final status from the ansible-playbook exit code, not
-- from their events being complete: a playbook can exit with an error after its last event, or be canceled.
ALTER TABLE job ADD COLUMN launched boolean NOT NULL DEFAULT false;
