package io.jobstream.websocket;

import io.jobstream.broadcast.EventMessages;
import jakarta.servlet.ServletOutputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One open server-sent-events stream: a {@link Subscriber} like a websocket's (so the same {@link JobFeed} sequences
 * its events: catch-up from the store from {@code Last-Event-ID}, then live, exactly once and in counter order; the
 * same {@link Outbox} bounds it in messages and bytes) whose network side is an {@link SseSender}. It follows one
 * job: its {@code job_events} group and that job's {@code jobs} messages (status changes, the summary whose final
 * counter ends the stream).
 *
 * <p>Threading: {@link #open} runs on the request's thread; {@link #end} and the heartbeat on the endpoint's timer;
 * the rest on the subscriber's and sender's threads. Ownership: the {@link EventStreamEndpoint} opens it and keeps it
 * until {@code onDone} has run, which happens once, however the stream ends.
 */
final class EventStream {
    final long userId;
    final long jobId;
    /** Whether the credentials that opened the stream have been withdrawn since (asks the store). */
    final BooleanSupplier revoked;
    /** The client's address, for stats. */
    final String remote;

    private final CompletableFuture<Void> over = new CompletableFuture<>();
    private volatile SseSender sender;
    private volatile Subscriber subscriber;
    private volatile boolean done;

    EventStream(long userId, long jobId, BooleanSupplier revoked, String remote) {
        this.userId = userId;
        this.jobId = jobId;
        this.revoked = revoked;
        this.remote = remote;
    }

    /** Completes when the response is over; the request's async context ends with it. */
    CompletableFuture<Void> over() {
        return over;
    }

    /**
     * Starts writing to {@code out} and subscribes: the job's groups are joined before its row is read again for the
     * final counter, so an EOF stored meanwhile is either in that row or comes as the summary message.
     *
     * @param lastEventId  the client's position (0: from the first event)
     * @param finalCounter the job's final counter as its row says now, or null before its EOF is stored
     * @param onDone       the endpoint's cleanup, called once with why the stream ended
     */
    void open(
            ServletOutputStream out,
            Subscriber.Shared shared,
            OutboxBytes.Account bytes,
            int lastEventId,
            Supplier<Integer> finalCounter,
            Consumer<String> onDone) {
        sender = new SseSender(out, jobId, lastEventId, reason -> finish(reason, onDone));
        out.setWriteListener(sender);
        Subscriber s = new Subscriber(sender, shared, bytes);
        s.gateJobs((frame, send) -> {
            if (SseFrames.jobOf(frame) == jobId) send.run();
        });
        subscriber = s;
        s.replaceGroups(
                Set.of(
                        EventMessages.jobEventsGroup(jobId),
                        EventMessages.STATUS_CHANGED_GROUP,
                        EventMessages.SUMMARY_GROUP),
                Map.of(jobId, lastEventId),
                Map.of());
        if (done) s.close("closed"); // the client left while we subscribed
        Integer last = finalCounter.get();
        if (last != null) sender.finalCounter(last);
    }

    /** Ends the stream early with {@code event: close} (access withdrawn, server stop). */
    void end(String reason) {
        SseSender s = sender;
        if (s != null) s.end(reason);
    }

    void heartbeat() {
        SseSender s = sender;
        if (s != null) s.heartbeat();
    }

    /** Events queued for this stream (for the outbox gauges and stats). */
    int queued() {
        Subscriber s = subscriber;
        return s == null ? 0 : s.queued();
    }

    /** The stream could not start: leaves whatever it joined and ends the request (the endpoint counts it). */
    void abort() {
        finish("failed", reason -> {});
    }

    /** As {@code ./jobstream stats} lists a subscriber: the stream's group, queue and whether it reads the store. */
    WebsocketEndpoint.SubscriberStats stats() {
        Subscriber s = subscriber;
        return new WebsocketEndpoint.SubscriberStats(
                userId,
                "sse " + remote,
                List.of(EventMessages.jobEventsGroup(jobId)),
                s == null ? 0 : s.queued(),
                s == null ? List.of() : s.catchingUp());
    }

    private void finish(String reason, Consumer<String> onDone) {
        synchronized (this) {
            if (done) return;
            done = true;
        }
        Subscriber s = subscriber;
        if (s != null) s.close(reason.equals("end") ? "stream_end" : reason); // leaves the groups, gives bytes back
        onDone.accept(reason);
        over.complete(null);
    }
}
