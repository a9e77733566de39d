-- Issue 15: the host indexes of job_event_index key on hashtext(host_name) instead of the name itself.
-- A B-tree whose first column is text compares strings at every step of every insert (through the database's
-- collation, and with the later columns' offsets no longer cacheable); with an int4 first column the same insert is
-- integer compares. Measured on the embedded PostgreSQL 17, 200,000 index rows COPYed, backend CPU per row, five
-- alternated rounds: 5.0 us (median) with the text keys, 3.85 us with these (docs/BENCHMARKS.md section 1c).
-- The search asks for hashtext(host_name) = hashtext(?) AND host_name = ?: the index finds the hash, the second term
-- drops the rare other name with the same hash (PostgresEventSearch.HOST). hashtext is what PostgreSQL's own hash
-- partitioning and hash indexes rely on being stable across versions; the default collation is deterministic.
-- Rebuilding the two indexes reads the whole table once: the first start after the upgrade takes longer, about 0.8 s
-- per million stored events here (5,000,000 rows: 3.8 s, table in memory), during which the node does not serve yet.
DROP INDEX job_event_index_host_idx;
DROP INDEX job_event_index_host_changed_idx;
CREATE INDEX job_event_index_host_idx ON job_event_index (hashtext(host_name), job_id, counter) WHERE host_name <> '';
CREATE INDEX job_event_index_host_changed_idx ON job_event_index (hashtext(host_name), job_id, counter)
    WHERE changed AND host_name <> '';
-- The planner takes the two terms as independent (hash selectivity x name selectivity): it then expects a handful of
-- rows and reads every row of the host in a bitmap scan and sorts them (15 ms for 2,000 rows) instead of walking the
-- index backwards and stopping after a page (0.1 ms). The dependency statistics tell it the hash follows the name.
CREATE STATISTICS job_event_index_host_stats (dependencies) ON hashtext(host_name), host_name FROM job_event_index;
