/**
 * Stage 1b, intake: the HTTP ingest endpoint decodes and validates a request, offers its good events to the queue
 * as one unit, and answers only once they are committed (or with 503 when the queue is full or the commit is late).
 * It counts every rejection; it never writes to the store or broadcasts itself. {@code RunnerArtifact} and
 * {@code RunnerEvents} turn an ansible-runner artifact directory into ingest lines for the import tool (they read
 * files and check lines with the same decoder, and send nothing themselves).
 */
package io.jobstream.ingest;
