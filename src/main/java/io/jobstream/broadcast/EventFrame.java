package io.jobstream.broadcast;

/**
 * One job event's websocket message, with what a subscriber needs to sequence it and time its last hop.
 *
 * @param text            the message ({@link EventMessages#event}), shared by every subscriber
 * @param createdMicros   the emitter's {@code created}, epoch microseconds
 * @param publishedMicros when it was handed to the hub, epoch microseconds; 0 for a frame read back from the store
 *                        (a replay: its last hop is not a live latency)
 */
public record EventFrame(long jobId, int counter, String text, long createdMicros, long publishedMicros) {
    public boolean live() {
        return publishedMicros != 0;
    }
}
