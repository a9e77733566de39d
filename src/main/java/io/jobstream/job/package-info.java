/**
 * Job lifecycle outside the event stream: creating job rows ({@link io.jobstream.job.JobRegistry}), launching
 * ansible-playbook with the plugin ({@link io.jobstream.job.JobLauncher}, fair slots per user, launch rate),
 * cancelling, and the status a launched job moves through. Writes events only through ingest (its own EOF for a
 * playbook that died), never to the store directly; knows nothing of the demo, which uses it.
 */
package io.jobstream.job;
