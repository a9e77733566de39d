package io.jobstream.job;

/** Creates job rows. Jobs also appear implicitly when their first event is ingested with a new job_id. */
public interface JobRegistry {
    /** Creates a job in status {@code pending} and returns its new id. */
    long create(String name, String playbook);
}
