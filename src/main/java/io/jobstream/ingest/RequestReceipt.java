package io.jobstream.ingest;

import io.jobstream.queue.Receipt;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Collects the fates of one request's messages (one receipt per message, all sharing this state) and completes
 * once every one is decided. Receipts are called on the receiver thread; the future is read by the HTTP side.
 */
final class RequestReceipt {
    private final CompletableFuture<RequestReceipt> done = new CompletableFuture<>();
    private final List<IngestReply.Problem> failures = new ArrayList<>();
    private int pending;
    private int stored;
    private int duplicates;

    RequestReceipt(int messages) {
        this.pending = messages;
        if (messages == 0) done.complete(this);
    }

    /** The receipt for the message that came from {@code line} of the request. */
    Receipt forLine(int line) {
        return new Receipt() {
            @Override
            public void stored() {
                decide(() -> RequestReceipt.this.stored++);
            }

            @Override
            public void duplicate() {
                decide(() -> duplicates++);
            }

            @Override
            public void failed(String reason) {
                decide(() -> failures.add(new IngestReply.Problem(line, reason)));
            }
        };
    }

    private void decide(Runnable update) {
        boolean complete;
        synchronized (this) {
            update.run();
            complete = --pending == 0;
        }
        if (complete) done.complete(this);
    }

    CompletableFuture<RequestReceipt> future() {
        return done;
    }

    synchronized int stored() {
        return stored;
    }

    synchronized int duplicates() {
        return duplicates;
    }

    /** Lines whose messages were valid but could not be stored (parked), with the reasons. */
    synchronized List<IngestReply.Problem> failures() {
        return List.copyOf(failures);
    }
}
