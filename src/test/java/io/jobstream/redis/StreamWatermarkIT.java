package io.jobstream.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.event.JobEof;
import io.jobstream.queue.Envelope;
import io.jobstream.queue.Receipt;
import io.jobstream.queue.Watermark;
import io.jobstream.testing.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event stream's low watermark against a real redis-server (issue 12.9): a mark is committed through only once
 * every entry added before it has been read and acknowledged, whichever node holds it.
 */
class StreamWatermarkIT {
    @TempDir
    Path dir;

    RedisServer server;
    RedisConnection connection;
    RedisEventQueue queue;

    @BeforeEach
    void start() {
        server = RedisServer.start(dir, false);
        connection = RedisConnection.open(server.url(), 8);
        queue = new RedisEventQueue(connection, "w1", 1000, n -> true, new SimpleMeterRegistry()).start();
    }

    @AfterEach
    void stop() {
        queue.close();
        connection.close();
        server.close();
    }

    @Test
    void issue_12_unread_and_pending_entries_hold_the_watermark_until_they_are_acknowledged() throws Exception {
        Watermark watermark = queue.watermark();
        long before = watermark.mark();
        await().atMost(Duration.ofSeconds(2)).until(() -> watermark.committedThrough(before));

        assertThat(queue.offerAll(List.of(eof(1), eof(2)))).isTrue();
        long unread = watermark.mark();
        awaitTwoMoreLooks();
        assertThat(watermark.committedThrough(unread))
                .as("added, nobody has read them")
                .isFalse();

        List<Envelope> read = new ArrayList<>();
        assertThat(queue.drainTo(read, 10, Duration.ofMillis(100))).isEqualTo(2);
        awaitTwoMoreLooks();
        assertThat(watermark.committedThrough(unread))
                .as("read, not acknowledged (a node could die now)")
                .isFalse();

        read.forEach(e -> e.receipt().stored()); // committed; the next drain acknowledges them
        queue.drainTo(new ArrayList<>(), 10, Duration.ofMillis(10));
        await().atMost(Duration.ofSeconds(2)).until(() -> watermark.committedThrough(unread));
        assertThat(watermark.committedThrough(watermark.mark()))
                .as("a mark taken now: the next look is older")
                .isFalse();
    }

    /** Two looks after this call, the second wholly after it: the watermark has seen what was done before. */
    private void awaitTwoMoreLooks() {
        StreamWatermark thread = (StreamWatermark) queue.watermark();
        long from = thread.looks();
        await().atMost(Duration.ofSeconds(2)).until(() -> thread.looks() >= from + 2);
    }

    private static Envelope eof(long job) {
        return new Envelope(new JobEof(job, 1), Receipt.NONE);
    }
}
