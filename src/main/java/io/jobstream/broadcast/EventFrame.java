package io.jobstream.broadcast;

import java.nio.charset.StandardCharsets;

/**
 * One job event's websocket message, with what a subscriber needs to sequence it and time its last hop.
 *
 * @param text            the message ({@link EventMessages#event}), shared by every subscriber
 * @param createdMicros   the emitter's {@code created}, epoch microseconds
 * @param publishedMicros when it was handed to the hub, epoch microseconds; 0 for a frame read back from the store
 *                        (a replay: its last hop is not a live latency)
 * @param utf8            {@code text} encoded once, shared by every subscriber's send (never modified): a websocket
 *                        text frame is UTF-8 on the wire, and encoding it per subscriber was a tenth of the send path
 */
public record EventFrame(long jobId, int counter, String text, long createdMicros, long publishedMicros, byte[] utf8) {
    public EventFrame(long jobId, int counter, String text, long createdMicros, long publishedMicros) {
        this(jobId, counter, text, createdMicros, publishedMicros, text.getBytes(StandardCharsets.UTF_8));
    }

    public boolean live() {
        return publishedMicros != 0;
    }
}
