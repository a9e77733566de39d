-- The node that runs a launched job (AWX's field of the same name): shown on the job, and how a node that restarts
-- after being killed, or the cluster, tells whose unfinished jobs were left behind. Empty for jobs first seen through
-- ingest, which no node runs. A constant default: no table rewrite.
ALTER TABLE job ADD COLUMN execution_node text NOT NULL DEFAULT '';
