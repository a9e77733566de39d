package io.jobstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import io.jobstream.event.Timestamps;
import io.jobstream.metrics.LagWindow;
import java.io.PrintWriter;
import java.net.http.WebSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.BitSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code lag JOB_ID}: AWX's debug.js gauge in a terminal. Subscribes to the job's events like a browser and prints,
 * once per interval, events/s and lag (now − created, in ms) average / standard deviation / max over the last 1024
 * events, with the maxima so far. Reconnects by itself, resuming after the last counter it saw. Ends when the job's
 * summary has come and every event up to its final counter has arrived, after {@code --duration}, or on Ctrl-C.
 */
@Command(
        name = "lag",
        mixinStandardHelpOptions = true,
        description = "Watch a job's events arrive and print their lag (the debug.js gauge in a terminal).")
final class LagCommand implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss");

    @Mixin
    NodeClient node;

    @Parameters(index = "0", paramLabel = "JOB_ID", description = "The job to watch.")
    long jobId;

    @Option(
            names = "--interval",
            defaultValue = "1s",
            paramLabel = "DURATION",
            description = "How often to print a line, e.g. 500ms or 2s. Default: ${DEFAULT-VALUE}.",
            converter = DurationConverter.class)
    Duration interval;

    @Option(
            names = "--duration",
            paramLabel = "DURATION",
            converter = DurationConverter.class,
            description = "Stop after this long even if the job goes on (default: until the job's events are all in).")
    Duration duration;

    private final Clock clock = Clock.systemUTC();

    @Spec
    CommandSpec spec;

    private PrintWriter out;
    private final LagWindow window = new LagWindow(1024);
    private long eventsThisTick;
    private long eventsTotal;
    private final BitSet seen = new BitSet();
    private long lastCounter; // every counter up to this one has arrived: the resume point
    private long finalCounter = -1;
    private String state = "connecting";
    private int reconnects;

    @Override
    public Integer call() throws Exception {
        out = spec.commandLine().getOut();
        Instant end = duration == null ? Instant.MAX : clock.instant().plus(duration);
        out.printf("watching job %d on %s (lag in ms over the last 1024 events; Ctrl-C stops)%n", jobId, node.url);
        out.printf(
                "%-8s %-10s %9s %9s %9s %8s | %9s %9s %8s %9s%n",
                "time", "state", "events/s", "lag avg", "stdev", "max", "MAX avg", "MAX stdev", "MAX max", "events");
        NodeClient.Socket socket = null;
        Instant nextTick = clock.instant().plus(interval);
        while (!done() && clock.instant().isBefore(end)) {
            if (socket == null || socket.socket().isInputClosed()) socket = connect(socket != null);
            Thread.sleep(Math.max(1, Duration.between(clock.instant(), nextTick).toMillis()));
            printLine(interval);
            nextTick = nextTick.plus(interval);
            // after a stall (a paused terminal, a busy machine) start ticking from now rather than print a burst
            if (nextTick.isBefore(clock.instant())) nextTick = clock.instant().plus(interval);
        }
        if (socket != null) socket.socket().abort();
        synchronized (this) {
            out.printf(
                    "job %d: %d events received%s, %d reconnects%n",
                    jobId, seen.cardinality(), finalCounter >= 0 ? " of " + finalCounter : "", reconnects);
        }
        out.flush();
        return 0;
    }

    /**
     * The job has ended and every counter from the first one this client saw up to the final one has arrived (a
     * client that starts mid-job measures live events only, as debug.js does, so it does not wait for older ones).
     */
    private synchronized boolean done() {
        if (finalCounter < 0) return false;
        int first = seen.nextSetBit(1);
        return first < 0 || seen.nextClearBit(first) > finalCounter;
    }

    private NodeClient.Socket connect(boolean again) throws InterruptedException {
        if (again) {
            synchronized (this) {
                reconnects++;
                state = "reconnecting";
            }
            Thread.sleep(1000);
        }
        try {
            NodeClient.Socket s = node.websocket(new Listener());
            String resume;
            synchronized (this) {
                resume = lastCounter > 0 ? ",\"resume\":{\"" + jobId + "\":" + lastCounter + "}" : "";
                state = "subscribing"; // "open" once the node confirms the groups (groups_current)
            }
            s.socket()
                    .sendText(
                            "{\"groups\":{\"jobs\":[\"status_changed\",\"summary\"],\"job_events\":[" + jobId + "]}"
                                    + resume + ",\"xrftoken\":\"" + s.xrftoken() + "\"}",
                            true)
                    .join();
            return s;
        } catch (Exception e) {
            synchronized (this) {
                state = "down";
            }
            System.err.println("lag: cannot connect to " + node.url + ": " + e.getMessage());
            return null;
        }
    }

    private synchronized void printLine(Duration tick) {
        LagWindow.Stats now = window.current();
        double rate = eventsThisTick / (tick.toNanos() / 1e9);
        eventsThisTick = 0;
        out.printf(
                "%-8s %-10s %9.1f %9.1f %9.1f %8d | %9.1f %9.1f %8d %9d%n",
                LocalTime.ofInstant(clock.instant(), ZoneId.systemDefault()).format(TIME),
                state,
                rate,
                now.avg(),
                now.stdev(),
                now.max(),
                window.maxAverage().avg(),
                window.maxStdev().stdev(),
                window.maxMax().max(),
                eventsTotal);
        out.flush();
    }

    private synchronized void onMessage(JsonNode m) {
        if (m.isArray()) { // batched frames, should a later version opt in
            m.forEach(this::onMessage);
            return;
        }
        if (m.has("counter") && m.has("created")) {
            int counter = m.get("counter").asInt();
            if (counter < 1 || seen.get(counter)) return; // a redelivery: its lag was counted the first time
            seen.set(counter);
            lastCounter = seen.nextClearBit(1) - 1;
            eventsThisTick++;
            eventsTotal++;
            window.add(Duration.between(Timestamps.parse(m.get("created").asText()), clock.instant())
                    .toMillis());
        } else if (m.has("groups_current")) {
            state = "open";
        } else if (m.has("final_counter") && m.path("unified_job_id").asLong() == jobId) {
            finalCounter = m.get("final_counter").asLong();
        } else if (m.has("status") && m.path("unified_job_id").asLong() == jobId) {
            state = m.get("status").asText();
        }
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                try {
                    onMessage(Json.MAPPER.readTree(partial.toString()));
                } catch (Exception e) {
                    System.err.println("lag: unreadable message: " + e.getMessage());
                }
                partial.setLength(0);
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
            synchronized (LagCommand.this) {
                state = "closed " + statusCode;
            }
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            synchronized (LagCommand.this) {
                state = "error";
            }
        }
    }
}
