/**
 * Job lifecycle outside the event stream: creating job rows ({@link io.jobstream.job.JobRegistry}) and, for
 * {@code serve --demo}, replaying a recorded real Ansible run as new jobs over the real ingest endpoint. (Launching
 * ansible-playbook and cancelling arrive with the Ansible issue.) Never writes events to the store directly.
 */
package io.jobstream.job;
