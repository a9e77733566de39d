/**
 * Stage 2, the queue between intake and the receiver. Owns the bound on accepted-but-uncommitted events:
 * {@link io.jobstream.queue.EventQueue#offerAll} takes a whole request or nothing, so intake can answer 503
 * instead of growing memory. Never does I/O in the in-memory implementation; never drops what it accepted.
 */
package io.jobstream.queue;
