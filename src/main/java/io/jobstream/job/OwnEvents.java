package io.jobstream.job;

import java.util.concurrent.CompletableFuture;

/**
 * The node's own way into its ingest queue, for events it writes itself (ingest's {@code submitOwn}): completes true
 * once committed, false when the queue refused them for now.
 */
@FunctionalInterface
public interface OwnEvents {
    CompletableFuture<Boolean> submit(String ndjson);
}
