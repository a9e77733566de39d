package io.jobstream.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.broadcast.EventFrame;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The {@link Outbox}'s lock-free drain under load: many producer threads offer events (shared and own, of random
 * sizes) and replies while sends complete both inside {@code send} and later on other threads, and batching is
 * switched on and off under them. Whatever the interleaving, every frame the outbox accepted is sent exactly once,
 * each producer's frames in the order it offered them, by one drain at a time, within the message and byte bounds.
 * The run is random (the seed is in every failure message; {@code -Doutbox.stress.seed=N} repeats one), the
 * assertions are not.
 */
class OutboxStressTest {
    private static final int PRODUCERS = 8;
    private static final int FRAMES_PER_PRODUCER = 8_000;
    private static final int CAPACITY = 64;
    private static final int MAX_PAD = 4_000;
    private static final long PER_CONNECTION = 64 * 1024;
    private static final long PER_USER = 96 * 1024;
    private static final long PER_NODE = 128 * 1024;
    /** Largest frame's charge: its text and its UTF-8 bytes (ASCII here, so twice its length). */
    private static final long MAX_FRAME_BYTES = 2L * (MAX_PAD + 64);

    private final Queue<String> violations = new ConcurrentLinkedQueue<>();
    private final int[] expected = new int[PRODUCERS]; // next n per producer; written only inside send (one drain)
    private final AtomicInteger inSend = new AtomicInteger();
    private final AtomicInteger delivered = new AtomicInteger();
    private final AtomicLong maxConnectionBytes = new AtomicLong();
    private final AtomicLong maxNodeBytes = new AtomicLong();
    private final AtomicInteger maxQueued = new AtomicInteger();
    private final AtomicInteger awaited = new AtomicInteger();

    @Test
    void many_producers_one_drainer_lose_nothing_duplicate_nothing_keep_each_producers_order_and_stay_in_bounds()
            throws Exception {
        long seed = Long.getLong("outbox.stress.seed", System.nanoTime());
        String run = "seed " + seed;
        OutboxBytes budget = new OutboxBytes(PER_CONNECTION, PER_USER, PER_NODE);
        OutboxBytes.Account account = budget.open(1);
        ExecutorService drains = Executors.newFixedThreadPool(2); // as the endpoint's two ws-sender threads
        ExecutorService network = Executors.newFixedThreadPool(2); // Jetty's completions, when not inline
        AtomicInteger roomFreed = new AtomicInteger();
        Outbox[] box = new Outbox[1];
        FrameSender sender = new FrameSender() {
            @Override
            public void send(String frame, Runnable onSent, Consumer<Throwable> onFailed) {
                received(frame, onSent);
            }

            @Override
            public void send(byte[] utf8, Runnable onSent, Consumer<Throwable> onFailed) {
                received(new String(utf8, StandardCharsets.UTF_8), onSent);
            }

            private void received(String frame, Runnable onSent) {
                if (inSend.incrementAndGet() != 1) violations.add("two drains sent at once");
                observe(box[0], account, budget);
                for (String message : split(frame)) check(message);
                inSend.decrementAndGet();
                if (ThreadLocalRandom.current().nextBoolean()) onSent.run(); // Jetty wrote it at once
                else network.execute(onSent);
            }

            @Override
            public void close(int status, String reason) {
                violations.add("closed: " + reason);
            }
        };
        Outbox outbox = new Outbox(
                sender,
                CAPACITY,
                drains,
                account,
                new WsMetrics(new SimpleMeterRegistry()),
                Clock.systemUTC(),
                new Outbox.Owner() {
                    @Override
                    public void roomFreed() {
                        roomFreed.incrementAndGet();
                        box[0].roomAwaited();
                    }

                    @Override
                    public void sendFailed(Throwable cause) {
                        violations.add("send failed: " + cause);
                    }
                });
        box[0] = outbox;

        CountDownLatch go = new CountDownLatch(1);
        List<Thread> producers = new ArrayList<>();
        for (int p = 0; p < PRODUCERS; p++) {
            Random random = new Random(seed + p);
            int producer = p;
            Thread t = new Thread(() -> produce(outbox, account, budget, producer, random, go), "producer-" + p);
            t.start();
            producers.add(t);
        }
        go.countDown();
        for (Thread t : producers) t.join(TimeUnit.SECONDS.toMillis(30));

        int total = PRODUCERS * FRAMES_PER_PRODUCER;
        Awaitility.await(run)
                .atMost(30, TimeUnit.SECONDS)
                .until(() -> !violations.isEmpty()
                        || delivered.get() == total
                                && account.held() == 0
                                && (awaited.get() == 0 || roomFreed.get() > 0));
        drains.shutdown();
        network.shutdown();
        assertThat(network.awaitTermination(10, TimeUnit.SECONDS)).isTrue();

        assertThat(producers).as(run).noneMatch(Thread::isAlive);
        assertThat(violations).as(run).isEmpty();
        for (int p = 0; p < PRODUCERS; p++) {
            assertThat(expected[p]).as("%s: frames sent of producer %d", run, p).isEqualTo(FRAMES_PER_PRODUCER);
        }
        assertThat(delivered.get()).as(run).isEqualTo(total);
        assertThat(outbox.queued()).as(run).isZero();
        assertThat(account.held())
                .as("%s: bytes still charged to the connection", run)
                .isZero();
        assertThat(budget.held()).as("%s: bytes still charged to the node", run).isZero();
        // a charge checks, then adds: each producer may pass the bound by at most its one message in flight
        assertThat(maxConnectionBytes.get()).as(run).isLessThanOrEqualTo(PER_CONNECTION + PRODUCERS * MAX_FRAME_BYTES);
        assertThat(maxNodeBytes.get()).as(run).isLessThanOrEqualTo(PER_NODE + PRODUCERS * MAX_FRAME_BYTES);
        assertThat(maxQueued.get()).as(run).isLessThanOrEqualTo(CAPACITY + Outbox.CONTROL_RESERVE + PRODUCERS);
        // every refusal is followed by a completion, and the last one finds the outbox empty: a waiter is woken
        if (awaited.get() > 0)
            assertThat(roomFreed.get())
                    .as("%s: readers waiting for room were woken", run)
                    .isPositive();
    }

    /**
     * One producer: its frames in order, each offered until the outbox takes it (a refusal queues nothing; the real
     * caller catches up from the store instead). Some are replies, some live frames shared with other subscribers,
     * and now and then it switches batching or asks to be woken when there is room, as a stopped reader does.
     */
    private void produce(
            Outbox outbox,
            OutboxBytes.Account account,
            OutboxBytes budget,
            int producer,
            Random random,
            CountDownLatch go) {
        try {
            go.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        for (int n = 0; n < FRAMES_PER_PRODUCER; n++) {
            int kind = random.nextInt(100);
            if (kind == 0) outbox.batch(random.nextBoolean());
            if (kind < 5) {
                String reply = "{\"p\":" + producer + ",\"n\":" + n + ",\"reply\":true}";
                while (!outbox.offerControl(reply)) Thread.yield(); // shared CI cores: let the drain run
            } else {
                String text = "{\"p\":" + producer + ",\"n\":" + n + ",\"pad\":\"" + "x".repeat(random.nextInt(MAX_PAD))
                        + "\"}";
                boolean live = kind < 60;
                EventFrame frame = new EventFrame(producer + 1, n + 1, text, 1, live ? 2 : 0);
                int refused = 0;
                while (!outbox.offerEvent(new Outbox.Out(frame))) {
                    if (++refused == 1) {
                        awaited.incrementAndGet();
                        outbox.awaitRoom();
                    }
                    Thread.yield(); // shared CI cores: let the drain run
                }
            }
            observe(outbox, account, budget);
        }
    }

    private void observe(Outbox outbox, OutboxBytes.Account account, OutboxBytes budget) {
        maxConnectionBytes.accumulateAndGet(account.held(), Math::max);
        maxNodeBytes.accumulateAndGet(budget.held(), Math::max);
        maxQueued.accumulateAndGet(outbox.queued(), Math::max);
    }

    /** A frame is one message, or (batched) a JSON array of event messages; the messages hold no brackets. */
    private static List<String> split(String frame) {
        if (!frame.startsWith("[")) return List.of(frame);
        return List.of(frame.substring(1, frame.length() - 1).split("(?<=\\}),(?=\\{)"));
    }

    /** Inside send, so on one drain at a time: the message must be its producer's next. */
    private void check(String message) {
        int producer = field(message, "\"p\":");
        int n = field(message, "\"n\":");
        if (producer < 0 || producer >= PRODUCERS) {
            violations.add("not a message of ours: " + message.substring(0, Math.min(60, message.length())));
            return;
        }
        if (n != expected[producer]) {
            violations.add("producer " + producer + ": got " + n + ", expected " + expected[producer]
                    + (n < expected[producer] ? " (duplicate or reordered)" : " (lost or reordered)"));
        }
        expected[producer] = n + 1;
        delivered.incrementAndGet();
    }

    private static int field(String message, String name) {
        int at = message.indexOf(name);
        if (at < 0) return -1;
        int i = at + name.length();
        int value = 0;
        while (i < message.length() && Character.isDigit(message.charAt(i)))
            value = value * 10 + message.charAt(i++) - '0';
        return value;
    }
}
