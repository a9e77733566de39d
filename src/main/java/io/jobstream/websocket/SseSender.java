package io.jobstream.websocket;

import io.jobstream.broadcast.EventFrame;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.WriteListener;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The network side of one server-sent-events stream (SPEC §12): what the {@link Outbox} hands a websocket, written as
 * {@code text/event-stream} to a servlet response in non-blocking mode, and the end of the stream.
 *
 * <p>Design note. The outbox expects {@link FrameSender}'s contract: a send starts and returns, and one callback says
 * later that the frame left (or that the connection broke). Here a frame is written when the servlet output
 * {@link ServletOutputStream#isReady is ready}, and it has left once the output is ready again: Jetty then holds no
 * more of it than its own buffer. So the frames wait in a queue here (at most the outbox's one flush, whose bytes the
 * outbox still counts), one is in flight at a time, and the output is flushed whenever the queue runs dry, so an
 * event reaches the client at once instead of waiting in Jetty's aggregation buffer. Jetty calls
 * {@link #onWritePossible} when a pending write completes; the senders' threads call {@link #send}; both pump under
 * this object's lock, and the callbacks run after it is released (a callback may queue the next frame).
 *
 * <p>The stream's words: an event is {@code id: <counter>} and {@code data: <the websocket's event message>}; a
 * status change is {@code event: status_changed}; once every event up to the job's final counter has been written
 * the stream says {@code event: end} (AWX's {@code summary} message as data) and ends; a stream closed early (slow
 * consumer, server stop, access withdrawn) says {@code event: close} with the last id written, and a client resumes
 * with {@code Last-Event-ID} (EventSource does it by itself). Comment lines ({@code :}) are heartbeats.
 *
 * <p>Threading: every method may be called from any thread. Ownership: the {@link EventStreamEndpoint} creates one
 * per stream; {@code onDone} runs once, when the response is over (ended, closed or broken).
 */
final class SseSender implements FrameSender, WriteListener {
    /** How long an EventSource waits before it reconnects after the stream ends or breaks. */
    static final int RETRY_MILLIS = 2_000;

    private static final byte[] HEARTBEAT = ":\n\n".getBytes(StandardCharsets.US_ASCII);

    /** One piece of the response; the callbacks are null for what the stream writes of its own (heartbeats, end). */
    private record Chunk(byte[] bytes, Runnable onSent, Consumer<Throwable> onFailed) {}

    private final ServletOutputStream out;
    private final long jobId;
    private final Consumer<String> onDone;
    private final ArrayDeque<Chunk> queue = new ArrayDeque<>(); // guarded by this
    private Chunk inFlight;
    private boolean unflushed;
    /** The last event id written (or the client's Last-Event-ID): what a resume continues after. */
    private int lastCounter;
    /** The job's last counter once its EOF is stored, else -1: the stream ends once it has been written. */
    private int finalCounter = -1;

    private boolean active; // something was written since the last heartbeat tick
    private String ending; // why the stream ends once the queue is written; null while it goes on
    private boolean done;

    /**
     * @param lastCounter the client's {@code Last-Event-ID} (0: none): the first event it gets is the next one
     * @param onDone      called once with why the response is over ({@code end}, a close reason, or {@code gone})
     */
    SseSender(ServletOutputStream out, long jobId, int lastCounter, Consumer<String> onDone) {
        this.out = out;
        this.jobId = jobId;
        this.lastCounter = lastCounter;
        this.onDone = onDone;
        // sent first: tells EventSource its reconnect delay, and commits the headers so the client sees the stream open
        queue.add(own(("retry: " + RETRY_MILLIS + "\n: job " + jobId + " events after " + lastCounter + "\n\n")));
    }

    /** The job's final counter is known (its row at the start, or the {@code summary} message): end once written. */
    void finalCounter(int counter) {
        List<Runnable> after;
        synchronized (this) {
            if (finalCounter < 0) finalCounter = Math.max(counter, 0); // the first word on it stands
            endIfComplete();
            after = pump();
        }
        after.forEach(Runnable::run);
    }

    @Override
    public void sendEvent(EventFrame event, Runnable onSent, Consumer<Throwable> onFailed) {
        byte[] id = ("id: " + event.counter() + "\n").getBytes(StandardCharsets.US_ASCII);
        byte[] frame = SseFrames.data(id, event.utf8());
        List<Runnable> after;
        synchronized (this) {
            if (!enqueue(new Chunk(frame, onSent, onFailed))) {
                after = List.of(onSent);
            } else {
                lastCounter = Math.max(lastCounter, event.counter());
                endIfComplete();
                after = pump();
            }
        }
        after.forEach(Runnable::run);
    }

    /** A batched array never comes (SSE subscribers do not batch); written as a plain message if it did. */
    @Override
    public void send(byte[] utf8, Runnable onSent, Consumer<Throwable> onFailed) {
        write(new Chunk(SseFrames.data(new byte[0], utf8), onSent, onFailed));
    }

    /** A control message: the job's {@code jobs} messages ({@link EventStreamEndpoint} lets only this job's through). */
    @Override
    public void send(String frame, Runnable onSent, Consumer<Throwable> onFailed) {
        int finalOf = SseFrames.finalCounterOf(frame);
        if (finalOf >= 0) { // summary: the end comes once the events up to it are written
            finalCounter(finalOf);
            onSent.run();
        } else if (frame.contains("\"status\"")) {
            write(new Chunk(SseFrames.named("status_changed", frame), onSent, onFailed));
        } else {
            onSent.run(); // no other message belongs on this stream
        }
    }

    /** The subscriber gives up on the stream (slow consumer, server stop): says so, then ends the response. */
    @Override
    public void close(int status, String reason) {
        end(reason.replace(' ', '_'));
    }

    /** Ends the stream with {@code event: close} after what is queued (e.g. access withdrawn). */
    void end(String reason) {
        List<Runnable> after;
        synchronized (this) {
            if (ending != null || done) return;
            queue.add(own(SseFrames.named(
                    "close",
                    "{\"reason\":\"" + reason + "\",\"last_event_id\":" + lastCounter + ",\"retry\":" + RETRY_MILLIS
                            + "}")));
            ending = reason;
            after = pump();
        }
        after.forEach(Runnable::run);
    }

    /**
     * A comment line when nothing was written since the last tick and nothing is waiting: keeps proxies from closing
     * an idle stream, and finds a client that has gone (the write fails). A stream whose writes are stuck gets no
     * more: Jetty's idle timeout ends it.
     */
    void heartbeat() {
        List<Runnable> after;
        synchronized (this) {
            boolean idle = !active && queue.isEmpty() && inFlight == null;
            active = false;
            if (!idle || done || ending != null) return;
            queue.add(own(HEARTBEAT));
            after = pump();
        }
        after.forEach(Runnable::run);
    }

    synchronized int lastCounter() {
        return lastCounter;
    }

    private void write(Chunk chunk) {
        List<Runnable> after;
        synchronized (this) {
            after = enqueue(chunk) ? pump() : List.of(chunk.onSent());
        }
        after.forEach(Runnable::run);
    }

    /** Under the lock: false when the stream is over or ending (the frame is then dropped, and counts as sent). */
    private boolean enqueue(Chunk chunk) {
        if (done || ending != null) return false;
        queue.add(chunk);
        return true;
    }

    /** Under the lock: every event up to the final counter is queued; the end follows it. */
    private void endIfComplete() {
        if (finalCounter < 0 || lastCounter < finalCounter || ending != null || done) return;
        queue.add(own(SseFrames.named(
                "end",
                "{\"group_name\":\"jobs\",\"unified_job_id\":" + jobId + ",\"final_counter\":" + finalCounter + "}")));
        ending = "end";
    }

    @Override
    public void onWritePossible() {
        List<Runnable> after;
        synchronized (this) {
            after = pump();
        }
        after.forEach(Runnable::run);
    }

    /** The client went away or a write failed: everything pending fails, and the response is over. */
    @Override
    public void onError(Throwable failure) {
        List<Chunk> failed = new ArrayList<>();
        synchronized (this) {
            if (done) return;
            done = true;
            if (inFlight != null) failed.add(inFlight);
            failed.addAll(queue);
            inFlight = null;
            queue.clear();
        }
        for (Chunk c : failed) if (c.onFailed() != null) c.onFailed().accept(failure);
        onDone.accept("gone");
    }

    /**
     * Under the lock: writes while the output is ready; returns the callbacks of what completed, and the end of the
     * response when it is over, to run once the lock is released.
     */
    private List<Runnable> pump() {
        List<Runnable> after = new ArrayList<>();
        try {
            while (!done && out.isReady()) {
                if (inFlight != null) { // ready again: the last write has left
                    if (inFlight.onSent() != null) after.add(inFlight.onSent());
                    inFlight = null;
                }
                Chunk next = queue.poll();
                if (next != null) {
                    out.write(next.bytes());
                    inFlight = next;
                    unflushed = true;
                    active = true;
                } else if (unflushed) {
                    unflushed = false;
                    out.flush(); // nothing more to go with it: send what Jetty aggregated now
                } else {
                    if (ending != null) {
                        done = true;
                        String reason = ending;
                        after.add(() -> onDone.accept(reason));
                    }
                    break;
                }
            }
        } catch (IOException | RuntimeException e) { // closed under us: the same as Jetty's onError
            Throwable failure = e;
            after.add(() -> onError(failure));
        }
        return after;
    }

    private static Chunk own(byte[] bytes) {
        return new Chunk(bytes, null, null);
    }

    private static Chunk own(String text) {
        return own(text.getBytes(StandardCharsets.UTF_8));
    }
}
