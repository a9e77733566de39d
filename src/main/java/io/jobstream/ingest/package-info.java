/**
 * Stage 1b, intake: the HTTP ingest endpoint decodes and validates a request, offers its good events to the queue
 * as one unit, and answers only once they are committed (or with 503 when the queue is full or the commit is late).
 * It counts every rejection; it never writes to the store or broadcasts itself.
 */
package io.jobstream.ingest;
