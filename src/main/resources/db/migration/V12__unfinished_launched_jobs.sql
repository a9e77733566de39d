-- Every node of a cluster reads the unfinished launched jobs every few seconds (jobs of a lost node, job.LostNodeJobs),
-- and every node at start (a killed node's leftovers): a partial index holds only those rows, a handful, so the read
-- costs the same with ten million finished jobs as with none. Built once, at this migration: a scan of the job table
-- (0.37 s for a million jobs in memory), during which writes to it wait.
CREATE INDEX job_unfinished_launched_idx ON job (id) WHERE launched AND status IN ('new', 'pending', 'waiting', 'running');
