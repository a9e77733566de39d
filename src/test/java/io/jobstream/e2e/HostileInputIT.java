package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Http;
import io.jobstream.testing.LogCapture;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hundreds of generated hostile lines, each in a request with good events around it, against a real node: the node
 * keeps serving, every good event is stored once with its output, nothing of a rejected line is stored, a repaired
 * line is stored repaired, each answer names exactly the bad lines, and the metrics count every rejection and repair.
 */
class HostileInputIT {
    private static final long GOOD_JOB = 41;
    private static final long HOSTILE_JOB = 42; // rejected lines all claim this job: none of it may be stored
    private static final long REPAIRED_JOB = 43;
    private static final int MAX_EVENT = 64 * 1024;

    @TempDir
    static Path dataDir;

    static RunningServer node;

    @BeforeAll
    static void start() {
        node = RunningServer.start(dataDir, Map.of("ingest.max-event-size", "64KiB"));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    /** One hostile line and what must become of it: rejected with a reason starting so, or stored repaired. */
    record Case(String kind, byte[] line, String rejectedAs, String repairedAs) {}

    @Test
    void generated_hostile_lines_are_rejected_or_repaired_one_by_one_and_good_neighbours_are_stored() throws Exception {
        Random random = new Random(20261128);
        List<Case> cases = cases(random);
        assertThat(cases).hasSizeGreaterThan(300);
        double rejectedBefore = metric("events_rejected_total");
        double repairedBefore = metric("events_repaired_total");
        LogCapture logs = new LogCapture();

        int goodCounter = 0;
        int rejectedLines = 0;
        int repairedLines = 0;
        Map<Integer, String> goodStdout = new HashMap<>();
        for (int i = 0; i < cases.size(); ) {
            // a request: 3-8 good events with 1-3 hostile lines among them, in random places
            List<byte[]> lines = new ArrayList<>();
            List<Case> inRequest = new ArrayList<>();
            int good = 3 + random.nextInt(6);
            for (int g = 0; g < good; g++) {
                int c = ++goodCounter;
                goodStdout.put(c, "good " + c + " \u00e9\u4e2d\ud83d\ude00");
                lines.add(event(GOOD_JOB, c, goodStdout.get(c)).getBytes(StandardCharsets.UTF_8));
            }
            for (int h = 1 + random.nextInt(3); h > 0 && i < cases.size(); h--, i++) inRequest.add(cases.get(i));
            List<Object> order = new ArrayList<>(lines);
            order.addAll(inRequest);
            Collections.shuffle(order, random);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            Map<Integer, Case> hostileAt = new HashMap<>();
            for (int n = 0; n < order.size(); n++) {
                Object o = order.get(n);
                byte[] line = o instanceof Case c ? c.line() : (byte[]) o;
                if (o instanceof Case c) hostileAt.put(n + 1, c);
                body.write(line);
                body.write('\n');
            }
            HttpResponse<String> r = post(body.toByteArray());
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            JsonNode reply = Http.json(r.body());
            Map<Integer, String> rejected = problems(reply.get("rejected"));
            Map<Integer, String> repaired = problems(reply.get("repaired"));
            for (var e : hostileAt.entrySet()) {
                Case c = e.getValue();
                String where = c.kind() + " at line " + e.getKey() + ": " + r.body();
                if (c.rejectedAs() != null) {
                    assertThat(rejected.get(e.getKey())).as(where).startsWith(c.rejectedAs());
                    rejectedLines++;
                } else {
                    assertThat(repaired.get(e.getKey())).as(where).startsWith(c.repairedAs());
                    repairedLines++;
                }
            }
            assertThat(rejected.keySet())
                    .as("only the hostile lines are rejected")
                    .allMatch(hostileAt::containsKey);
            assertThat(reply.get("accepted").asInt()).isEqualTo(order.size() - rejected.size());
        }
        logs.close();
        // the logs say which line was rejected and why in kind, never what it held
        assertThat(logs.lines()).as("jobstream logged the rejections").anyMatch(l -> l.contains("rejected line"));
        for (String marker : List.of(
                "\u4e2d",
                "-after",
                "repaired ",
                "\"job_id\"",
                "event_data",
                "\"7\"",
                "{\"id\":42}",
                "yesterday",
                "Authorization",
                "Bearer ",
                "Basic ",
                "password")) {
            assertThat(logs.lines()).as("logs quoting " + marker).noneMatch(l -> l.contains(marker));
        }

        // every good event stored once with its output, in counter order
        JsonNode goodJob = Http.getJson(node.uri("/api/v2/jobs/" + GOOD_JOB + "/"));
        assertThat(goodJob.get("stored_events").asInt()).isEqualTo(goodCounter);
        StringBuilder expected = new StringBuilder();
        for (int c = 1; c <= goodCounter; c++)
            expected.append(goodStdout.get(c)).append('\n');
        assertThat(Http.get(node.uri("/api/v2/jobs/" + GOOD_JOB + "/stdout/?format=txt"))
                        .body())
                .isEqualTo(expected.toString());
        // nothing of a rejected line
        assertThat(Http.get(node.uri("/api/v2/jobs/" + HOSTILE_JOB + "/")).statusCode())
                .isEqualTo(404);
        // repaired lines stored without what made them unstorable
        JsonNode repairedEvents = Http.getJson(node.uri("/api/v2/jobs/" + REPAIRED_JOB + "/job_events/?page_size=200"));
        assertThat(repairedEvents.get("count").asInt()).isEqualTo(repairedLines);
        for (JsonNode e : repairedEvents.get("results")) {
            assertThat(e.get("stdout").asText())
                    .doesNotContain("\u0000")
                    .startsWith("repaired")
                    .endsWith("end");
        }
        assertThat(metric("events_rejected_total") - rejectedBefore).isEqualTo(rejectedLines);
        assertThat(metric("events_repaired_total") - repairedBefore).isGreaterThanOrEqualTo(repairedLines);
        assertThat(Http.get(node.uri("/api/v2/health/")).statusCode()).isEqualTo(200);
    }

    @Test
    void a_body_of_binary_garbage_gets_400_with_reasons_and_the_node_keeps_serving() throws Exception {
        byte[] garbage = new byte[4096];
        new Random(7).nextBytes(garbage);
        HttpResponse<String> r = post(garbage);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(Http.json(r.body()).get("rejected").size()).isPositive();
        assertThat(post(event(GOOD_JOB + 100, 1, "after garbage").getBytes(StandardCharsets.UTF_8))
                        .statusCode())
                .isEqualTo(200);
    }

    private static List<Case> cases(Random random) {
        List<Case> cases = new ArrayList<>();
        int[] counter = {0};
        Function<String, String> hostile = extra -> "{\"job_id\":" + HOSTILE_JOB + ",\"counter\":" + (++counter[0])
                + ",\"event\":\"runner_on_ok\",\"uuid\":\"h" + counter[0] + "\"" + extra + "}";
        // truncated JSON: a valid event cut anywhere before its end
        for (int i = 0; i < 100; i++) {
            String whole = hostile.apply(
                    ",\"stdout\":\"cut " + i + "\",\"event_data\":{\"task\":\"t\",\"res\":{\"a\":[1,2,3]}}");
            cases.add(reject(
                    "truncated", whole.substring(0, 1 + random.nextInt(whole.length() - 1)), "malformed JSON"));
        }
        // wrong types, field by field
        Map<String, List<String>> wrong = Map.ofEntries(
                Map.entry("counter", List.of("\"7\"", "1.5", "true", "[]", "{}")),
                Map.entry("job_id", List.of("\"42\"", "4.2", "false", "[42]", "{\"id\":42}")),
                Map.entry("event", List.of("5", "true", "[]", "{}")),
                Map.entry("stdout", List.of("42", "true", "[\"a\"]", "{}")),
                Map.entry("uuid", List.of("5", "true", "[]", "{}")),
                Map.entry("parent_uuid", List.of("5", "false", "[]", "{}")),
                Map.entry("host_name", List.of("5", "true", "[\"h\"]", "{}")),
                Map.entry("verbosity", List.of("\"v\"", "1.5", "true", "[]", "-1")),
                Map.entry("start_line", List.of("\"1\"", "2.5", "true", "[]", "-5")),
                Map.entry("end_line", List.of("\"1\"", "2.5", "true", "{}", "-2")),
                Map.entry("event_data", List.of("\"s\"", "5", "true", "[]")),
                Map.entry("created", List.of("5", "true", "[]", "{}")));
        for (var e : wrong.entrySet()) {
            for (String value : e.getValue()) {
                String line =
                        "{\"job_id\":" + HOSTILE_JOB + ",\"counter\":" + (++counter[0]) + ",\"event\":\"runner_on_ok\"";
                line = switch (e.getKey()) {
                    case "counter" ->
                        "{\"job_id\":" + HOSTILE_JOB + ",\"counter\":" + value + ",\"event\":\"runner_on_ok\"}";
                    case "job_id" ->
                        "{\"job_id\":" + value + ",\"counter\":" + counter[0] + ",\"event\":\"runner_on_ok\"}";
                    case "event" ->
                        "{\"job_id\":" + HOSTILE_JOB + ",\"counter\":" + counter[0] + ",\"event\":" + value + "}";
                    default -> line + ",\"" + e.getKey() + "\":" + value + "}";
                };
                cases.add(reject("wrong type " + e.getKey() + "=" + value, line, e.getKey() + ":"));
            }
        }
        // absurd numbers
        for (String n : List.of("0", "-1", "2147483648", "9223372036854775808", "1e400", "-0.5", "1E3")) {
            cases.add(reject(
                    "absurd counter " + n,
                    "{\"job_id\":" + HOSTILE_JOB + ",\"counter\":" + n + ",\"event\":\"verbose\"}",
                    "counter:"));
            cases.add(
                    reject("absurd job " + n, "{\"job_id\":" + n + ",\"counter\":1,\"event\":\"verbose\"}", "job_id:"));
        }
        // dates that are not dates, or out of range
        for (String d : List.of(
                "2026-02-30T00:00:00Z",
                "2026-13-01T00:00:00Z",
                "yesterday",
                "",
                "1969-12-31T23:59:59Z",
                "10000-01-01T00:00:00Z",
                "2026-01-01T25:00:00Z",
                "2026-01-01T00:00:00+25:00",
                "0000-00-00",
                "\\u0000")) {
            cases.add(reject("bad date " + d, hostile.apply(",\"created\":\"" + d + "\""), "created:"));
        }
        // not an object
        for (String v : List.of("42", "\"str\"", "[]", "null", "true", "[1,2]", "-7.5e3")) {
            cases.add(reject("not an object " + v, v, "expected a JSON object"));
        }
        cases.add(reject("empty object", "{}", "job_id: missing"));
        // nesting deeper than the decoder allows, at several depths
        for (int depth : new int[] {201, 300, 1000, 5000}) {
            String nested = "{\"a\":".repeat(depth) + "1" + "}".repeat(depth);
            cases.add(reject(
                    "nested " + depth, hostile.apply(",\"event_data\":" + nested), "JSON nested deeper than 200"));
        }
        // larger than the event limit
        for (int i = 0; i < 5; i++) {
            String big = "x".repeat(MAX_EVENT + random.nextInt(MAX_EVENT));
            cases.add(reject("oversized", hostile.apply(",\"stdout\":\"" + big + "\""), "event is"));
        }
        // invalid UTF-8 and raw control characters inside a string, at random places
        byte[][] badBytes = {
            {(byte) 0xff},
            {(byte) 0xc3, 0x28},
            {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
            {(byte) 0xc0, (byte) 0xaf},
            {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
            {0x00},
            {0x01},
            {0x1f}
        };
        for (int i = 0; i < 96; i++) {
            byte[] bad = badBytes[i % badBytes.length];
            String text = "before-" + i + "-after";
            int at = 1 + random.nextInt(text.length() - 1);
            byte[] head =
                    hostile.apply(",\"stdout\":\"" + text.substring(0, at)).getBytes(StandardCharsets.UTF_8);
            head = java.util.Arrays.copyOf(head, head.length - 1); // drop the closing brace: the string goes on
            byte[] tail = (text.substring(at) + "\"}").getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            line.writeBytes(head);
            line.writeBytes(bad);
            line.writeBytes(tail);
            cases.add(new Case("bad bytes " + i, line.toByteArray(), "malformed JSON", null));
        }
        // repairable: escaped NULs and unpaired surrogates in stdout are removed/replaced, the event is kept
        for (int i = 0; i < 40; i++) {
            String junk = i % 2 == 0 ? "\\u0000" : "\\udcff";
            String stdout = "repaired " + i + " " + junk.repeat(1 + random.nextInt(3)) + " end";
            String line = "{\"job_id\":" + REPAIRED_JOB + ",\"counter\":" + (i + 1)
                    + ",\"event\":\"verbose\",\"stdout\":\"" + stdout + "\"}";
            cases.add(new Case("repairable " + i, line.getBytes(StandardCharsets.UTF_8), null, "stdout:"));
        }
        Collections.shuffle(cases, random);
        return cases;
    }

    private static Case reject(String kind, String line, String reason) {
        return new Case(kind, line.getBytes(StandardCharsets.UTF_8), reason, null);
    }

    private static String event(long job, int counter, String stdout) {
        return "{\"job_id\":" + job + ",\"counter\":" + counter + ",\"event\":\"runner_on_ok\",\"uuid\":\"g" + counter
                + "\",\"stdout\":\"" + stdout + "\",\"start_line\":" + (counter - 1) + ",\"end_line\":" + counter + "}";
    }

    private static Map<Integer, String> problems(JsonNode list) {
        Map<Integer, String> out = new HashMap<>();
        for (JsonNode p : list) out.put(p.get("line").asInt(), p.get("reason").asText());
        return out;
    }

    private static HttpResponse<String> post(byte[] body) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(node.uri("/api/v2/job_events/ingest/"))
                                .header("Authorization", TestUsers.ADMIN_AUTH)
                                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }

    private static double metric(String name) {
        String text = Http.get(node.uri("/metrics")).body();
        double sum = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }
}
