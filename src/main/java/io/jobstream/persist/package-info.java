/**
 * Stage 3, receive and persist: the {@link io.jobstream.persist.Receiver} drains the queue in batches, writes each
 * batch through an {@link io.jobstream.persist.EventStore} in one transaction, reports every message's fate to its
 * {@link io.jobstream.queue.Receipt}, then hands the committed batch to broadcast. It owns the job bookkeeping rules
 * ({@link io.jobstream.persist.JobProgress}). It never broadcasts anything that is not committed.
 */
package io.jobstream.persist;
