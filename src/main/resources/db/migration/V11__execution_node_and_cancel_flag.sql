-- The node that runs a launched job (AWX's field of the same name): shown on the job, and how a node that restarts
-- after being killed, or the cluster, tells whose unfinished jobs were left behind. Empty for jobs first seen through
-- ingest, which no node runs. A constant default: no table rewrite.
ALTER TABLE job ADD COLUMN execution_node text NOT NULL DEFAULT '';
-- AWX's field: a cancel was asked for. A cancel that reaches a node other than the job's sets it, and the job's node,
-- which looks for it every second while it runs jobs, cancels the run; a node that starts after being killed cancels, not fails, a
-- leftover job that has it.
ALTER TABLE job ADD COLUMN cancel_flag boolean NOT NULL DEFAULT false;
