package io.jobstream.diagnosis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.cli.Cli;
import io.jobstream.event.Timestamps;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.WsTestClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The doctor on a real node (embedded PostgreSQL, real websockets): each cause is induced for real and the verdict
 * and stage checked over a 10 s window. Waits are for conditions with generous deadlines, never fixed sleeps that
 * assert timing, so a busy machine only makes them slower.
 */
class DoctorIT {
    private static final Duration DEADLINE = Duration.ofSeconds(45);
    /**
     * How long each database stall lasts: long enough that the probes the node starts every 2 s see it every time
     * (with 3 s, a probe could start near a stall's end and the doctor needed up to four stalls to be sure).
     */
    private static final Duration STALL = Duration.ofSeconds(5);

    private static final Pattern CREATED = Pattern.compile("\"created\":\"[^\"]*\"");

    @TempDir
    Path dir;

    /** Posts events of one job, {@code perRequest} at a time, {@code pause} apart, created {@code early} before now. */
    private static final class Emitter implements AutoCloseable {
        final AtomicInteger counter = new AtomicInteger();
        final AtomicInteger answered503 = new AtomicInteger();
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<Thread> threads = new ArrayList<>();
        final AtomicReference<Throwable> failed = new AtomicReference<>();

        Emitter(RunningServer node, long job, int perRequest, Duration pause, Duration early, int threads) {
            for (int t = 0; t < threads; t++) {
                Thread thread = new Thread(() -> run(node, job, perRequest, pause, early), "emitter-" + t);
                thread.setDaemon(true);
                this.threads.add(thread);
                thread.start();
            }
        }

        private void run(RunningServer node, long job, int perRequest, Duration pause, Duration early) {
            try {
                while (running.get()) {
                    StringBuilder body = new StringBuilder();
                    String created =
                            "\"created\":\"" + Timestamps.format(Instant.now().minus(early)) + "\"";
                    for (int i = 0; i < perRequest; i++) {
                        String event = Events.event(job, counter.incrementAndGet());
                        body.append(CREATED.matcher(event).replaceFirst(created))
                                .append('\n');
                    }
                    HttpResponse<String> r = Http.post(node.uri("/api/v2/job_events/ingest/"), body.toString());
                    if (r.statusCode() == 503) answered503.incrementAndGet();
                    if (!pause.isZero()) Thread.sleep(pause.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable e) {
                if (running.get()) failed.set(e);
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread t : threads) t.join(60_000);
        }
    }

    /** {@code ./jobstream doctor ARGS}: exit code, then what it printed (stdout and stderr). */
    private static Map.Entry<Integer, String> doctor(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        System.setOut(out);
        System.setErr(out);
        try {
            String[] all = new String[args.length + 1];
            all[0] = "doctor";
            System.arraycopy(args, 0, all, 1, args.length);
            int code = Cli.run(all);
            return Map.entry(code, bytes.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(stdout);
            System.setErr(stderr);
        }
    }

    /** {@code ./jobstream doctor} as an operator on the node's machine runs it: its own token, a 10 s window. */
    private static Map.Entry<Integer, String> doctorOf(RunningServer node) {
        return doctor(
                "--url", node.uri("/").toString(), "--data-dir", node.dataDir().toString(), "--window", "10s");
    }

    private static JsonNode diagnosis(RunningServer node) {
        HttpResponse<String> r = Http.get(node.uri("/api/v2/diagnosis/?window=10s"));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Http.json(r.body());
    }

    private static List<String> stages(JsonNode d) {
        List<String> out = new ArrayList<>();
        d.path("findings").forEach(f -> out.add(f.path("stage").asText()));
        return out;
    }

    /**
     * Waits until the diagnosis names {@code stage} first, and returns that diagnosis; prints how long after
     * {@code since} (the fault's start) that took, the figure docs/BENCHMARKS.md asks for.
     */
    private static JsonNode awaitFirst(RunningServer node, String stage, Instant since) {
        return awaitFirst(node, stage, since, () -> "");
    }

    /**
     * As above; {@code inducer} says what the fault's inducer did, printed with each look, and may fail the wait
     * (an inducer that broke is not the doctor's miss).
     */
    private static JsonNode awaitFirst(RunningServer node, String stage, Instant since, Supplier<String> inducer) {
        AtomicReference<JsonNode> last = new AtomicReference<>();
        await().atMost(DEADLINE).pollInterval(Duration.ofSeconds(2)).untilAsserted(() -> {
            String induced = inducer.get();
            last.set(diagnosis(node));
            // what it said on the way, for the CI log when the deadline passes
            System.out.printf(
                    "DoctorIT: +%.1f s %s %s %s %s%n",
                    Duration.between(since, Instant.now()).toMillis() / 1000.0,
                    last.get().path("verdict").asText(),
                    stages(last.get()),
                    last.get().path("window"),
                    induced);
            assertThat(stages(last.get())).as(last.get().toString()).first().isEqualTo(stage);
        });
        System.out.printf(
                "DoctorIT: named %s %.1f s after the fault began (window 10 s)%n",
                stage, Duration.between(since, Instant.now()).toMillis() / 1000.0);
        return last.get();
    }

    @Test
    void a_node_that_keeps_up_under_steady_load_is_healthy() throws Exception {
        try (RunningServer node = RunningServer.start(dir)) {
            WsTestClient ws = WsTestClient.connect(node.websocketUri(), "csrftoken=dr", true);
            ws.next();
            ws.send("{\"xrftoken\": \"dr\", \"groups\": {\"job_events\": [11]}}");
            ws.next();
            try (Emitter emitter = new Emitter(node, 11, 20, Duration.ofMillis(50), Duration.ZERO, 1)) {
                // a full window of steady traffic, reaching the subscriber
                await().atMost(DEADLINE).until(() -> emitter.counter.get() > 2000 && ws.frames.size() > 500);
                await().atMost(DEADLINE)
                        .until(() -> diagnosis(node)
                                        .path("window")
                                        .path("covered_seconds")
                                        .asDouble()
                                >= 9.5);
                JsonNode d = diagnosis(node);
                assertThat(d.path("verdict").asText()).as(d.toString()).isEqualTo("healthy");
                assertThat(d.path("findings")).isEmpty();
                assertThat(emitter.failed.get()).isNull();
            }
            JsonNode job = Http.json(
                    Http.get(node.uri("/api/v2/jobs/11/diagnosis/?window=10s")).body());
            assertThat(job.path("verdict").asText()).isEqualTo("healthy");
            Map.Entry<Integer, String> cli = doctorOf(node);
            assertThat(cli.getKey()).as(cli.getValue()).isZero();
            assertThat(cli.getValue()).contains(diagnosis(node).path("node").asText() + ": healthy over the last 10s");
            assertThat(Http.get(node.uri("/api/v2/diagnosis/?window=1s")).statusCode())
                    .isEqualTo(400);
            assertThat(Http.get(node.uri("/api/v2/diagnosis/?window=soon")).statusCode())
                    .isEqualTo(400);
            ws.abort();
        }
    }

    @Test
    void events_created_seconds_before_they_are_sent_are_the_emitter() throws Exception {
        Instant since = Instant.now();
        try (RunningServer node = RunningServer.start(dir);
                Emitter emitter = new Emitter(node, 12, 20, Duration.ofMillis(100), Duration.ofSeconds(4), 1)) {
            since = Instant.now();
            JsonNode d = awaitFirst(node, "emitter", since);
            JsonNode f = d.path("findings").path(0);
            assertThat(stages(d)).containsExactly("emitter");
            assertThat(f.path("hop").asText()).isEqualTo("created_received");
            assertThat(f.path("evidence").path("created_received_mean_ms").asDouble())
                    .isGreaterThan(3000);
            assertThat(f.path("evidence").path("constant_offset").asBoolean()).isTrue();
            assertThat(f.path("action").asText()).endsWith("docs/OPERATIONS.md#finding-emitter");
            // the job page's viewer reads the same cause in a sentence
            JsonNode job = Http.json(
                    Http.get(node.uri("/api/v2/jobs/12/diagnosis/?window=10s")).body());
            assertThat(job.path("reasons").path(0).path("sentence").asText())
                    .startsWith("events arrive late from their emitters");
            Map.Entry<Integer, String> cli = doctorOf(node);
            assertThat(cli.getKey()).as(cli.getValue()).isEqualTo(1);
            assertThat(cli.getValue())
                    .contains(": degraded over the last 10s")
                    .containsPattern("  emitter +\\d+%  events arrive late")
                    .contains("docs/OPERATIONS.md#finding-emitter");
            Map.Entry<Integer, String> json = doctor(
                    "--url",
                    node.uri("/").toString(),
                    "--data-dir",
                    node.dataDir().toString(),
                    "--json");
            assertThat(Http.json(json.getValue())
                            .path("findings")
                            .path(0)
                            .path("stage")
                            .asText())
                    .isEqualTo("emitter");
        }
    }

    @Test
    void a_websocket_client_that_stops_reading_is_that_subscriber_by_name() throws Exception {
        try (RunningServer node = RunningServer.start(dir, Map.of("ws.idle-timeout", "5m"))) {
            WsTestClient reader = WsTestClient.connect(node.websocketUri(), "csrftoken=ok", true);
            reader.next();
            reader.send("{\"xrftoken\": \"ok\", \"groups\": {\"job_events\": [13]}}");
            reader.next();
            WsTestClient stalled = WsTestClient.connect(node.websocketUri(), "csrftoken=st", false);
            stalled.send("{\"xrftoken\": \"st\", \"groups\": {\"job_events\": [13]}}");
            Instant since = Instant.now();
            try (Emitter emitter = new Emitter(node, 13, 200, Duration.ofMillis(20), Duration.ZERO, 1)) {
                JsonNode d = awaitFirst(node, "subscriber", since);
                JsonNode f = d.path("findings").path(0);
                assertThat(stages(d)).doesNotContain("fanout");
                assertThat(f.path("subject").path("user").asText()).isEqualTo("admin");
                assertThat(f.path("subject").path("remote").asText()).contains("127.0.0.1");
                assertThat(f.path("subject").path("jobs").toString()).isEqualTo("[13]");
                assertThat(f.path("evidence").path("outbox_depth").asLong()
                                + f.path("evidence").path("catching_up").asLong())
                        .isPositive();
                assertThat(emitter.failed.get()).isNull();
            }
            stalled.abort();
            reader.abort();
        }
    }

    @Test
    void postgres_stopped_for_seconds_at_a_time_is_the_database_not_the_emitters() throws Exception {
        try (RunningServer node = RunningServer.start(dir);
                Emitter emitter = new Emitter(node, 14, 50, Duration.ofMillis(20), Duration.ZERO, 2)) {
            await().atMost(DEADLINE).until(() -> emitter.counter.get() > 500);
            long postmaster = postmaster(node.dataDir());
            AtomicBoolean stalling = new AtomicBoolean(true);
            AtomicReference<Throwable> stallerFailed = new AtomicReference<>();
            AtomicReference<String> stalls = new AtomicReference<>("no stall yet");
            // Each stall stops the postmaster first (it can then fork no new backend), then every process under it
            // as it is at that moment: a pool connection opened after the test began has a backend that a list
            // taken once would miss, and the writer would carry on through it as if nothing were wrong. A stall
            // counts from when /proc shows every one of them stopped (on a loaded machine a signalled process may
            // not have run yet); one that does not take fails the test with what it saw, not "healthy" 45 s later.
            Thread staller = new Thread(
                    () -> {
                        List<Long> stopped = new ArrayList<>(List.of(postmaster));
                        try {
                            for (int n = 1; stalling.get(); n++) {
                                stopped = new ArrayList<>();
                                stall(postmaster, stopped);
                                stalls.set("stall " + n + " of " + stopped.size() + " processes");
                                Thread.sleep(STALL.toMillis());
                                signal("-CONT", stopped);
                                Thread.sleep(1000);
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        } catch (Throwable e) {
                            stallerFailed.set(e);
                        } finally {
                            signal("-CONT", stopped);
                        }
                    },
                    "postgres-staller");
            Instant since = Instant.now();
            staller.start();
            try {
                JsonNode d = awaitFirst(node, "database", since, () -> {
                    assertThat(stallerFailed.get()).as("the staller").isNull();
                    return stalls.get();
                });
                assertThat(stages(d)).doesNotContain("emitter", "receiver", "queue");
                JsonNode f = d.path("findings").path(0);
                assertThat(f.path("hop").asText()).isEqualTo("received_committed");
                assertThat(f.path("evidence").path("slow_batches").asLong()
                                + f.path("evidence").path("probes_slow").asLong()
                                + f.path("evidence").path("probes_failed").asLong())
                        .isGreaterThanOrEqualTo(2);
            } finally {
                stalling.set(false);
                staller.join(10_000);
                List<Long> all = new ArrayList<>(List.of(postmaster));
                ProcessHandle.of(postmaster).ifPresent(p -> p.descendants().forEach(c -> all.add(c.pid())));
                signal("-CONT", all);
            }
        }
    }

    @Test
    void while_postgres_is_stopped_the_doctor_still_answers_with_the_nodes_own_token_and_recent_credentials()
            throws Exception {
        try (RunningServer node = RunningServer.start(dir)) {
            assertThat(diagnosis(node).path("verdict").asText()).isEqualTo("healthy"); // admin's Basic, seen now
            long postmaster = postmaster(node.dataDir());
            List<Long> stopped = new ArrayList<>();
            try {
                stall(postmaster, stopped);
                // the node's own command-line token, never used before: no credential look-up can answer now
                Map.Entry<Integer, String> cli = doctorOf(node);
                assertThat(cli.getKey()).as(cli.getValue()).isIn(0, 1); // not 3: it got an answer
                assertThat(cli.getValue()).contains(" over the last 10s");
                assertThat(Http.get(node.uri("/api/v2/diagnosis/?window=10s")).statusCode())
                        .isEqualTo(200);
                // and the scrape that would show it, from memory
                assertThat(Http.get(node.uri("/metrics")).body()).contains("auth_store_timeouts_total");
                // a credential the node has not verified lately cannot be checked: 503, at once, not a hang
                HttpResponse<String> unseen =
                        Http.get(node.uri("/api/v2/diagnosis/"), TestUsers.basic(TestUsers.ADMIN, "not-it"));
                assertThat(unseen.statusCode()).as(unseen.body()).isEqualTo(503);
                // all of that while PostgreSQL was still stopped
                assertThat(state(postmaster)).isEqualTo('T');
            } finally {
                signal("-CONT", stopped);
            }
            // the look-ups that waited answer once it runs again: the node checks credentials at once, no back-off
            await().atMost(DEADLINE)
                    .until(() -> Http.get(node.uri("/api/v2/diagnosis/"), TestUsers.basic(TestUsers.ADMIN, "not-it"))
                                    .statusCode()
                            == 401);
            assertThat(MetricsText.sum(node.uri("/metrics"), "auth_store_timeouts_total"))
                    .isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void an_offered_rate_above_what_the_receiver_commits_is_the_receiver() throws Exception {
        // a small queue and small transactions: the receiver's ceiling is low, four emitters offer more
        Instant since = Instant.now(); // the emitters start with the node: the load is the fault
        try (RunningServer node =
                        RunningServer.start(dir, Map.of("queue.capacity", "2000", "persist.max-batch", "10"));
                Emitter emitter = new Emitter(node, 15, 500, Duration.ZERO, Duration.ZERO, 4)) {
            JsonNode d = awaitFirst(node, "receiver", since);
            assertThat(stages(d)).doesNotContain("emitter", "database");
            JsonNode f = d.path("findings").path(0);
            assertThat(f.path("evidence").path("busy_fraction").asDouble()).isGreaterThanOrEqualTo(0.7);
        }
    }

    @Test
    void a_node_that_cannot_be_reached_is_exit_code_3_and_a_bad_window_2() {
        Map.Entry<Integer, String> cli = doctor("--url", "http://127.0.0.1:1/");
        assertThat(cli.getKey()).isEqualTo(3);
        assertThat(cli.getValue()).contains("jobstream doctor: cannot get a diagnosis from the node at");
        assertThat(doctor("--url", "http://127.0.0.1:1/", "--window", "1s").getKey())
                .isEqualTo(2);
    }

    /** The embedded server's postmaster and every process it started (the backends holding the node's connections). */
    private static long postmaster(Path dataDir) throws IOException {
        return Long.parseLong(Files.readAllLines(dataDir.resolve("pg").resolve("postmaster.pid"))
                .get(0)
                .trim());
    }

    /**
     * Stops the postmaster, then its descendants as they are now, adding each to {@code stopped} before it is
     * signalled (so whatever happens, the caller continues them all); returns once /proc shows every one of them
     * stopped (or gone: a backend that ended is a zombie until the postmaster runs again).
     */
    private static void stall(long postmaster, List<Long> stopped) throws InterruptedException {
        stopped.add(postmaster);
        signal("-STOP", List.of(postmaster));
        List<Long> children = new ArrayList<>();
        ProcessHandle.of(postmaster)
                .orElseThrow(() -> new IllegalStateException("the postmaster " + postmaster + " is gone"))
                .descendants()
                .forEach(p -> children.add(p.pid()));
        stopped.addAll(children);
        signal("-STOP", children);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!stopped.stream().allMatch(pid -> "TtZX-".indexOf(state(pid)) >= 0)) {
            if (System.nanoTime() > deadline) {
                StringBuilder states = new StringBuilder();
                stopped.forEach(
                        pid -> states.append(pid).append(':').append(state(pid)).append(' '));
                throw new IllegalStateException("not stopped after 10 s: " + states);
            }
            Thread.sleep(10);
        }
    }

    /** A process's state letter as /proc shows it ({@code T}: stopped), {@code -} when it is gone. */
    private static char state(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2);
        } catch (IOException e) {
            return '-';
        }
    }

    private static void signal(String signal, List<Long> pids) {
        if (pids.isEmpty()) {
            return;
        }
        List<String> command = new ArrayList<>(List.of("kill", signal));
        pids.forEach(p -> command.add(Long.toString(p)));
        try {
            Process kill = new ProcessBuilder(command).redirectErrorStream(true).start();
            String said = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            // a backend may have exited since it was listed; any other complaint is the test's own fault
            if (kill.waitFor() != 0 && !said.lines().allMatch(l -> l.contains("No such process")))
                throw new IllegalStateException(String.join(" ", command) + ": " + said);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
