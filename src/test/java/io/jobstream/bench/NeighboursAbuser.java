package io.jobstream.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Http;
import io.jobstream.testing.RawWebsocket;
import io.jobstream.testing.TestUsers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The abusing user of {@code bench/neighbours}: every abuse of issue 13 at once, each on its own thread, for as long
 * as the phase runs. Each answer's HTTP status (or what became of a connection) is counted per abuse. Runs inside the
 * benchmark's JVM ({@code NEIGHBOURS_ABUSER=inproc}) or, by default, as a process of its own through {@link #main},
 * started by the benchmark at low CPU priority so that its client's cost is not taken from the node and the watcher.
 *
 * <p>As a process: arguments are the node's base URI, its websocket URI and the abusing user's id. It prints
 * {@code READY} once every abuse runs, stops at a line (or the end) on stdin, then prints one
 * {@code OUTCOME <abuse>\t<outcome>\t<count>} line per answer seen and {@code DONE}.
 */
public final class NeighboursAbuser {
    final ConcurrentMap<String, ConcurrentMap<String, LongAdder>> outcomes = new ConcurrentHashMap<>();
    private final URI base;
    private final URI websocket;
    private final long userId;
    private final String auth = TestUsers.basic(NeighboursBenchmark.ABUSER, NeighboursBenchmark.PASSWORD);
    private final List<AutoCloseable> held = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    NeighboursAbuser(URI base, URI websocket, long userId) {
        this.base = base;
        this.websocket = websocket;
        this.userId = userId;
    }

    private URI uri(String path) {
        return base.resolve(path);
    }

    private void count(String abuse, String outcome) {
        outcomes.computeIfAbsent(abuse, k -> new ConcurrentHashMap<>())
                .computeIfAbsent(outcome, k -> new LongAdder())
                .increment();
    }

    private void loop(String abuse, AtomicBoolean running, long pauseMillis, Supplier<String> once) {
        threads.add(NeighboursBenchmark.daemon("abuse-" + abuse, () -> {
            while (running.get()) {
                try {
                    count(abuse, once.get());
                } catch (RuntimeException e) {
                    count(abuse, e.getClass().getSimpleName());
                }
                if (pauseMillis > 0) NeighboursBenchmark.sleep(pauseMillis);
            }
        }));
    }

    /**
     * Which abuses run: all, or those named in {@code NEIGHBOURS_ABUSES} (comma-separated: big, launch, eof,
     * spread, patch, name, password, subscribe; and burn, only when named), to find which one costs the watcher most.
     */
    private static boolean enabled(String key) {
        String only = System.getenv("NEIGHBOURS_ABUSES");
        return only == null || only.isBlank() || named(key);
    }

    /** Abuses that run only when named ({@code burn}), so that the default run stays comparable with earlier ones. */
    private static boolean named(String key) {
        String only = System.getenv("NEIGHBOURS_ABUSES");
        return only != null && List.of(only.split(",")).contains(key);
    }

    /** Jobs the {@code burn} abuse launched: canceled when the phase ends, so none burns into the next phase. */
    private final List<Long> burning = new java.util.concurrent.CopyOnWriteArrayList<>();

    public static void main(String[] args) throws Exception {
        NeighboursAbuser abuser =
                new NeighboursAbuser(URI.create(args[0]), URI.create(args[1]), Long.parseLong(args[2]));
        AtomicBoolean running = new AtomicBoolean(true);
        abuser.start(running);
        System.out.println("READY");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine(); // the phase is over
        running.set(false);
        abuser.stop();
        abuser.outcomes.forEach((abuse, answers) -> answers.forEach(
                (outcome, n) -> System.out.println("OUTCOME " + abuse + "\t" + outcome + "\t" + n.sum())));
        System.out.println("DONE");
        System.out.flush();
        System.exit(0); // held sockets and client threads would otherwise keep the JVM up
    }

    void start(AtomicBoolean running) throws Exception {
        if (enabled("big")) bigJobAndStalledReaders();
        if (enabled("launch"))
            loop("launch then cancel slow.yml", running, 20, () -> {
                HttpResponse<String> r = Http.postJson(
                        uri("/api/v2/jobs/"), "{\"playbook\":\"slow.yml\",\"extra_vars\":{\"steps\":60}}", auth);
                if (r.statusCode() == 201) {
                    long id = Http.json(r.body()).path("id").asLong();
                    Http.postJson(uri("/api/v2/jobs/" + id + "/cancel/"), "{}", auth);
                }
                return String.valueOf(r.statusCode());
            });
        if (named("burn"))
            // CPU-bound playbooks (burn.yml, one busy process per job for 25 s), kept at the user's running share:
            // what jobs.nice is for. Not a misuse; a user's heavy playbooks next to another user's watched job.
            loop("launch burn.yml (CPU-bound)", running, 500, () -> {
                HttpResponse<String> r = Http.postJson(
                        uri("/api/v2/jobs/"), "{\"playbook\":\"burn.yml\",\"extra_vars\":{\"secs\":25}}", auth);
                if (r.statusCode() == 201)
                    burning.add(Http.json(r.body()).path("id").asLong());
                return String.valueOf(r.statusCode());
            });
        if (enabled("eof"))
            loop("EOF lines for ids 3..1002", running, 200, () -> {
                StringBuilder body = new StringBuilder();
                for (int id = 3; id <= 1002; id++)
                    body.append("{\"event\":\"EOF\",\"job_id\":").append(id).append(",\"final_counter\":1}\n");
                return String.valueOf(Http.post(uri("/api/v2/job_events/ingest/"), body.toString(), auth)
                        .statusCode());
            });
        if (enabled("spread"))
            loop("events spread over ids (partitions)", running, 200, () -> {
                StringBuilder body = new StringBuilder();
                for (long id = 1_000_000; id < 2_000_000_000L; id += 1_000_000)
                    body.append(NeighboursBenchmark.event(id, 1)).append('\n');
                return String.valueOf(Http.post(uri("/api/v2/job_events/ingest/"), body.toString(), auth)
                        .statusCode());
            });
        if (enabled("patch"))
            loop(
                    "no-op PATCH of oneself",
                    running,
                    5,
                    () -> String.valueOf(Http.send(
                                    Http.authorized(HttpRequest.newBuilder(uri("/api/v2/users/" + userId + "/")), auth)
                                            .header("Content-Type", "application/json")
                                            .method("PATCH", HttpRequest.BodyPublishers.ofString("{}"))
                                            .build())
                            .statusCode()));
        if (enabled("name"))
            loop("20,000,000-character job name", running, 500, () -> {
                String name = "x".repeat(20_000_000);
                return String.valueOf(Http.postJson(
                                uri("/api/v2/jobs/"), "{\"playbook\":\"hello.yml\",\"name\":\"" + name + "\"}", auth)
                        .statusCode());
            });
        for (int t = 0; t < (enabled("password") ? 2 : 0); t++) {
            loop(
                    "wrong password",
                    running,
                    5,
                    () -> String.valueOf(Http.get(
                                    uri("/api/v2/me/"),
                                    TestUsers.basic(NeighboursBenchmark.ABUSER, "guess-" + System.nanoTime()))
                            .statusCode()));
        }
        for (int c = 0; c < (enabled("subscribe") ? 16 : 0); c++) subscribeFlood(running);
    }

    /** A job of 40 events of 1.9 MB, 20 websockets that resume it and never read, 10 downloads never read. */
    private void bigJobAndStalledReaders() throws Exception {
        JsonNode job = NeighboursBenchmark.newJob(base, NeighboursBenchmark.ABUSER);
        long jobId = job.get("job").asLong();
        String bearer = "Bearer " + job.get("token").asText();
        String big = "y".repeat(1_900_000);
        for (int c = 1; c <= 40; c++) {
            String e = "{\"job_id\":" + jobId + ",\"counter\":" + c + ",\"event\":\"runner_on_ok\",\"uuid\":\"big-" + c
                    + "\",\"stdout\":\"" + big + "\",\"start_line\":" + (c - 1) + ",\"end_line\":" + c + "}";
            count(
                    "40 events of 1.9 MB",
                    String.valueOf(Http.post(uri("/api/v2/job_events/ingest/"), e, bearer)
                            .statusCode()));
        }
        for (int i = 0; i < 20; i++) {
            try {
                RawWebsocket ws = RawWebsocket.connect(
                        websocket, Map.of("Authorization", auth, "Cookie", "csrftoken=bench"), false);
                ws.sendText("{\"xrftoken\":\"bench\",\"groups\":{\"job_events\":[" + jobId + "]},\"resume\":{\"" + jobId
                        + "\":0}}");
                held.add(ws);
                count("websockets resuming 40 x 1.9 MB, never reading", "connected");
            } catch (IOException refused) {
                count("websockets resuming 40 x 1.9 MB, never reading", "refused");
            }
        }
        for (int i = 0; i < 10; i++) {
            Socket s = new Socket(uri("/").getHost(), uri("/").getPort());
            s.setReceiveBufferSize(4096);
            OutputStream out = s.getOutputStream();
            out.write(("GET /api/v2/jobs/" + jobId + "/stdout/?format=ansi_download HTTP/1.1\r\nHost: x\r\n"
                            + "Authorization: " + auth + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            held.add(s);
            count("stdout downloads never read", "sent");
        }
    }

    /** One connection that keeps sending subscribe messages naming 100 jobs (the node's message rate allowing). */
    private void subscribeFlood(AtomicBoolean running) {
        StringBuilder ids = new StringBuilder();
        for (int j = 1; j <= 100; j++) ids.append(j == 1 ? "" : ",").append(j);
        String message = "{\"xrftoken\":\"bench\",\"groups\":{\"job_events\":[" + ids + "]}}";
        threads.add(NeighboursBenchmark.daemon("abuse-subscribe", () -> {
            while (running.get()) {
                try (RawWebsocket ws = RawWebsocket.connect(
                        websocket, Map.of("Authorization", auth, "Cookie", "csrftoken=bench"), true)) {
                    while (running.get() && !ws.closed.isDone()) {
                        ws.sendText(message);
                        count("subscribe messages naming 100 jobs", "sent");
                        NeighboursBenchmark.sleep(10);
                    }
                    count("subscribe messages naming 100 jobs", "closed " + ws.closed.getNow(0));
                } catch (IOException e) {
                    count("subscribe messages naming 100 jobs", "connection " + e.getMessage());
                    NeighboursBenchmark.sleep(200);
                }
            }
        }));
    }

    void stop() throws Exception {
        for (Thread t : threads) t.join(30_000);
        for (long id : burning) Http.postJson(uri("/api/v2/jobs/" + id + "/cancel/"), "{}", auth);
        for (AutoCloseable c : held) {
            try {
                c.close();
            } catch (Exception ignored) {
                // already closed by the node: what we wanted to see
            }
        }
    }
}
