package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RawWebsocket;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.WsTestClient;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hundreds of generated hostile websocket messages and frames against a real node (garbage, truncated and deeply
 * nested JSON, wrong types in subscribe and resume, binary, invalid UTF-8, oversized and broken frames, too many
 * groups, too many messages and connections, stalled handshakes and readers): each gets its error reply or close
 * code, each is counted, and a well-behaved client watching a job meanwhile gets every event.
 */
class HostileWebsocketIT {
    private static final String TOKEN = "hostile";
    private static final int MAX_MESSAGE = 8 * 1024;
    private static final int MAX_GROUPS = 10;
    private static final int MAX_CONNECTIONS = 30;
    private static final int MAX_RATE = 1000;

    @TempDir
    static Path dataDir;

    static RunningServer node;

    @BeforeAll
    static void start() {
        node = RunningServer.start(
                dataDir,
                Map.of(
                        "ws.max-message-size",
                        "8KiB",
                        "ws.max-subscriptions",
                        Integer.toString(MAX_GROUPS),
                        "ws.max-connections-per-user",
                        Integer.toString(MAX_CONNECTIONS),
                        "ws.max-message-rate",
                        Integer.toString(MAX_RATE),
                        "ws.idle-timeout",
                        "1s",
                        "http.idle-timeout",
                        "1s",
                        // each case here checks its own reply, so nothing closes a connection for its refusals
                        // (RefusedWebsocketIT tests that)
                        "ws.max-refused-messages",
                        "0"));
    }

    @AfterAll
    static void stop() {
        node.close();
    }

    /**
     * One hostile message: sent as {@code opcode} with {@code payload}; answered on the same connection with an
     * error starting {@code reply}, or (when {@code closeCode} is set) the connection closed with that code.
     */
    record Case(String kind, int opcode, byte[] payload, String reply, int closeCode, String metric) {
        static Case reply(String kind, String text, String reply, String metric) {
            return new Case(kind, RawWebsocket.TEXT, text.getBytes(StandardCharsets.UTF_8), reply, 0, metric);
        }

        static Case close(String kind, int opcode, byte[] payload, int code, String metric) {
            return new Case(kind, opcode, payload, null, code, metric);
        }
    }

    @Test
    void generated_hostile_messages_each_get_their_error_or_close_and_a_watching_client_gets_every_event()
            throws Exception {
        Random random = new Random(20261128);
        List<Case> cases = cases(random);
        assertThat(cases).hasSizeGreaterThan(300);
        Map<String, Double> before = rejectedByReason();
        long job = 71;
        WsTestClient watcher = watch(job);
        int posted = 0;

        // the cases take turns on 8 connections, so that none comes near ws.max-message-rate however fast this runs
        List<RawWebsocket> hostiles = new ArrayList<>();
        for (int k = 0; k < 8; k++) hostiles.add(connect());
        try {
            int sentinel = 0;
            for (int i = 0; i < cases.size(); i++) {
                Case c = cases.get(i);
                RawWebsocket hostile = hostiles.get(i % hostiles.size());
                if (c.closeCode() != 0) {
                    try (RawWebsocket victim = connect()) {
                        try {
                            victim.send(c.opcode(), c.payload(), true, !c.kind().equals("unmasked"));
                        } catch (java.io.IOException closedMidFrame) {
                            // the node may close as soon as it reads an oversized frame's length
                        }
                        int code = victim.closed.get(5, TimeUnit.SECONDS);
                        if (c.kind().equals("oversized") && code == -1) {
                            // The node closes once it has read the frame's length, with the rest of the frame unread:
                            // Linux then resets the connection, and the reset can make the client's kernel throw
                            // away the 1009 close frame it already had. The refusal is still counted (too_large),
                            // which the counts below check; seen once in a full run on a loaded machine.
                            continue;
                        }
                        assertThat(code).as(c.kind()).isEqualTo(c.closeCode());
                    }
                } else {
                    hostile.send(c.opcode(), c.payload(), true);
                    // a sentinel subscribe marks the end of this case's replies, and shows what it left subscribed
                    String mark = "s" + (++sentinel);
                    hostile.sendText("{\"xrftoken\":\"" + TOKEN + "\",\"groups\":{\"jobs\":[\"" + mark + "\"]}}");
                    List<JsonNode> replies = new ArrayList<>();
                    JsonNode groups;
                    while (true) {
                        String text = hostile.nextText(5);
                        assertThat(text)
                                .as("replies to " + c.kind() + " case " + i)
                                .isNotNull();
                        JsonNode reply = Http.json(text);
                        if (reply.path("groups_current").toString().contains("jobs-" + mark)) {
                            groups = reply;
                            break;
                        }
                        replies.add(reply);
                    }
                    assertThat(replies)
                            .as(c.kind() + ": " + new String(c.payload(), StandardCharsets.UTF_8))
                            .anySatisfy(
                                    r -> assertThat(r.path("error").asText()).startsWith(c.reply()));
                    // a refused subscribe changes nothing: only the previous sentinel group is left
                    if (c.kind().equals("too many groups")) {
                        assertThat(groups.get("groups_left").size())
                                .as(groups.toString())
                                .isLessThanOrEqualTo(1);
                    }
                }
                if (i % 20 == 0) {
                    StringBuilder body = new StringBuilder();
                    for (int k = 0; k < 5; k++)
                        body.append(Events.event(job, ++posted)).append('\n');
                    assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), body.toString())
                                    .statusCode())
                            .isEqualTo(200);
                }
            }
        } finally {
            for (RawWebsocket ws : hostiles) ws.close();
        }

        int expected = posted;
        Set<Integer> counters = new TreeSet<>();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            for (String f; (f = watcher.frames.poll()) != null; ) {
                JsonNode n = Http.json(f);
                if (n.has("counter") && n.path("job").asLong() == job)
                    counters.add(n.get("counter").asInt());
            }
            return counters.size() == expected;
        });
        assertThat(counters).hasSize(expected).contains(1, expected);
        watcher.abort();

        Map<String, Integer> wanted = new HashMap<>();
        for (Case c : cases) wanted.merge(c.metric(), 1, Integer::sum);
        Map<String, Double> after = rejectedByReason();
        for (var e : wanted.entrySet()) {
            assertThat(after.getOrDefault(e.getKey(), 0.0) - before.getOrDefault(e.getKey(), 0.0))
                    .as("ws_messages_rejected_total{reason=" + e.getKey() + "}")
                    .isEqualTo(e.getValue().doubleValue());
        }
        assertThat(Http.get(node.uri("/api/v2/health/")).statusCode()).isEqualTo(200);
    }

    @Test
    void a_user_over_the_connection_limit_is_refused_at_the_handshake_until_one_closes() throws Exception {
        double refusedBefore =
                MetricsText.value(node.uri("/metrics"), "ws_disconnects_total{reason=\"too_many_connections\"");
        List<RawWebsocket> open = new ArrayList<>();
        try {
            RawWebsocket refused = null;
            for (int i = 0; i <= MAX_CONNECTIONS && refused == null; i++) {
                RawWebsocket ws = RawWebsocket.connect(node.websocketUri(), cookie(), true);
                String first = firstText(ws);
                if (first != null && first.contains("\"accept\":true")) {
                    open.add(ws);
                } else {
                    refused = ws;
                }
            }
            assertThat(open).hasSizeLessThanOrEqualTo(MAX_CONNECTIONS);
            assertThat(refused).as("the connection over the limit").isNotNull();
            assertThat(refused.closed.get(5, TimeUnit.SECONDS)).isEqualTo(1008);
            assertThat(refused.closeReason).contains("too many connections").contains("ws.max-connections-per-user");
            refused.close();

            open.remove(0).close();
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                try (RawWebsocket again = RawWebsocket.connect(node.websocketUri(), cookie(), true)) {
                    assertThat(again.nextText(5)).contains("\"accept\":true");
                }
            });
        } finally {
            for (RawWebsocket ws : open) ws.close();
        }
        assertThat(MetricsText.value(node.uri("/metrics"), "ws_disconnects_total{reason=\"too_many_connections\""))
                .isGreaterThan(refusedBefore);
    }

    @Test
    void messages_over_the_rate_get_an_error_and_are_ignored_and_counted() throws Exception {
        double before = rejectedByReason().getOrDefault("rate", 0.0);
        int sent = 5 * MAX_RATE;
        int limited = 0;
        try (RawWebsocket ws = connect()) {
            byte[] message = "{}".getBytes(StandardCharsets.UTF_8); // without xrftoken: access denied, when handled
            for (int i = 0; i < sent; i++) ws.send(RawWebsocket.TEXT, message, true);
            for (int i = 0; i < sent; i++) {
                String reply = ws.nextText(5);
                assertThat(reply).as("reply " + i).isNotNull();
                if (reply.contains("ws.max-message-rate")) limited++;
                else assertThat(reply).contains("access denied to channel");
            }
        }
        assertThat(limited).as("messages refused for the rate").isPositive();
        assertThat(rejectedByReason().getOrDefault("rate", 0.0) - before).isEqualTo(limited);
    }

    @Test
    void a_handshake_that_never_completes_is_closed_by_the_idle_timeout_while_others_are_served() throws Exception {
        try (Socket stalled = new Socket("127.0.0.1", node.websocketUri().getPort())) {
            stalled.setSoTimeout(30_000);
            stalled.getOutputStream()
                    .write(("GET /websocket/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n")
                            .getBytes(StandardCharsets.US_ASCII));
            WsTestClient other = watch(72);
            other.abort();
            assertThat(endsWithoutTimeout(stalled.getInputStream()))
                    .as("the server ends the stalled handshake")
                    .isTrue();
        }
    }

    @Test
    void a_subscriber_that_never_reads_is_disconnected_while_a_reader_gets_every_event() throws Exception {
        long job = 73;
        WsTestClient watcher = watch(job);
        URI metrics = node.uri("/metrics");
        double subscribers = MetricsText.value(metrics, "ws_subscribers ");
        double idleBefore = MetricsText.value(metrics, "ws_disconnects_total{reason=\"idle_timeout\"");
        RawWebsocket stalled = RawWebsocket.connect(node.websocketUri(), cookie(), false);
        stalled.sendText("{\"xrftoken\":\"" + TOKEN + "\",\"groups\":{\"job_events\":[" + job + "]}}");
        await().atMost(Duration.ofSeconds(5))
                .until(() -> MetricsText.value(metrics, "ws_subscribers ") == subscribers + 1);
        // ~6 MB of events: far more than the socket buffers hold, so the node's writes to the stalled client stop
        String big = "x".repeat(2000);
        int total = 0;
        for (int request = 0; request < 30; request++) {
            StringBuilder body = new StringBuilder();
            for (int k = 0; k < 100; k++) {
                total++;
                body.append("{\"job_id\":")
                        .append(job)
                        .append(",\"counter\":")
                        .append(total)
                        .append(",\"event\":\"runner_on_ok\",\"uuid\":\"u")
                        .append(total)
                        .append("\",\"stdout\":\"")
                        .append(big)
                        .append("\"}\n");
            }
            assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), body.toString())
                            .statusCode())
                    .isEqualTo(200);
        }
        await().atMost(Duration.ofSeconds(30))
                .until(() -> MetricsText.value(metrics, "ws_subscribers ") == subscribers);
        assertThat(MetricsText.value(metrics, "ws_disconnects_total{reason=\"idle_timeout\""))
                .as("cut off by ws.idle-timeout")
                .isGreaterThan(idleBefore);
        stalled.close();

        int expected = total;
        Set<Integer> counters = new TreeSet<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            for (String f; (f = watcher.frames.poll()) != null; ) {
                JsonNode n = Http.json(f);
                if (n.has("counter")) counters.add(n.get("counter").asInt());
            }
            return counters.size() == expected;
        });
        watcher.abort();
    }

    private static List<Case> cases(Random random) {
        List<Case> cases = new ArrayList<>();
        String malformed = "malformed message";
        String denied = "access denied to channel";
        // garbage text that is not JSON at all
        for (int i = 0; i < 60; i++) {
            StringBuilder sb = new StringBuilder("#");
            for (int k = random.nextInt(200); k > 0; k--) sb.append((char) (0x20 + random.nextInt(0x2000)));
            String text = sb.toString().replaceAll("[\\ud800-\\udfff]", "?");
            cases.add(Case.reply("garbage", text, malformed, "malformed"));
        }
        // a valid subscribe cut anywhere
        String whole = "{\"xrftoken\":\"" + TOKEN
                + "\",\"groups\":{\"jobs\":[\"status_changed\"],\"job_events\":[1,2]}," + "\"resume\":{\"1\":5}}";
        for (int i = 0; i < 60; i++)
            cases.add(Case.reply(
                    "truncated", whole.substring(0, 1 + random.nextInt(whole.length() - 1)), malformed, "malformed"));
        // JSON that is not an object
        for (String s : List.of("1", "-2.5", "\"x\"", "[]", "[{}]", "null", "true", "false", "\"{}\"", "1e999")) {
            cases.add(Case.reply("not an object", s, malformed, "malformed"));
        }
        // nested deeper than ws.max-json-depth (16), still under the message size
        for (int i = 0; i < 40; i++) {
            int depth = 17 + random.nextInt(3000);
            boolean objects = random.nextBoolean();
            String open = objects ? "{\"a\":" : "[";
            String close = objects ? "}" : "]";
            int fit = Math.min(depth, (MAX_MESSAGE - 64) / (open.length() + close.length()));
            String text = "{\"xrftoken\":\"" + TOKEN + "\",\"x\":" + open.repeat(fit) + "1" + close.repeat(fit) + "}";
            cases.add(Case.reply("deep", text, malformed, "too_deep"));
        }
        // a missing or wrong xrftoken
        for (String token : List.of("", "\"wrong\"", "1", "null", "[\"" + TOKEN + "\"]", "{}", "\"" + TOKEN + " \"")) {
            String field = token.isEmpty() ? "" : "\"xrftoken\":" + token + ",";
            for (int i = 0; i < 3; i++) {
                cases.add(Case.reply(
                        "xrftoken", "{" + field + "\"groups\":{\"jobs\":[\"status_changed\"]}}", denied, "xrftoken"));
            }
        }
        // wrong types in groups
        List<String> badGroups = List.of(
                "\"jobs\"",
                "1",
                "[]",
                "null",
                "true",
                "{\"jobs\":\"status_changed\"}",
                "{\"jobs\":1}",
                "{\"jobs\":{}}",
                "{\"jobs\":[\"a\"],\"b\":2}",
                "{\"job_events\":null}");
        for (int i = 0; i < 30; i++) {
            cases.add(Case.reply(
                    "groups",
                    "{\"xrftoken\":\"" + TOKEN + "\",\"groups\":" + badGroups.get(i % badGroups.size()) + "}",
                    denied,
                    "groups"));
        }
        // job_events values that are no job id
        List<String> badIds =
                List.of("\"abc\"", "1.5", "{}", "[]", "null", "true", "\"1e3\"", "\"\"", "\"12 \"", "\"-\"");
        for (int i = 0; i < 30; i++) {
            cases.add(Case.reply(
                    "job id",
                    "{\"xrftoken\":\"" + TOKEN + "\",\"groups\":{\"job_events\":[" + badIds.get(i % badIds.size())
                            + "]}}",
                    denied + " job_events for resource id",
                    "access_denied"));
        }
        // wrong types in resume
        List<String> badResume = List.of(
                "\"x\"",
                "1",
                "[]",
                "[1]",
                "{\"abc\":1}",
                "{\"1\":\"x\"}",
                "{\"1\":-1}",
                "{\"1\":1.5}",
                "{\"1\":99999999999}",
                "{\"1\":null}",
                "{\"1\":{}}",
                "{\"-1\":1}",
                "{\"99999999999999999999\":1}");
        for (int i = 0; i < 39; i++) {
            cases.add(Case.reply(
                    "resume",
                    "{\"xrftoken\":\"" + TOKEN + "\",\"groups\":{\"jobs\":[\"a\"]},\"resume\":"
                            + badResume.get(i % badResume.size()) + "}",
                    "malformed resume",
                    "resume"));
        }
        // more groups than ws.max-subscriptions
        for (int i = 0; i < 20; i++) {
            StringBuilder values = new StringBuilder();
            int n = MAX_GROUPS + 1 + random.nextInt(200);
            for (int k = 0; k < n; k++)
                values.append(k == 0 ? "" : ",").append("\"g").append(k).append('"');
            cases.add(Case.reply(
                    "too many groups",
                    "{\"xrftoken\":\"" + TOKEN + "\",\"groups\":{\"jobs\":[" + values + "]}}",
                    "too many groups",
                    "too_many_groups"));
        }
        // binary frames: AWX's protocol is text
        for (int i = 0; i < 30; i++) {
            byte[] bytes = new byte[1 + random.nextInt(4000)];
            random.nextBytes(bytes);
            cases.add(new Case("binary", RawWebsocket.BINARY, bytes, malformed, 0, "binary"));
        }
        // over ws.max-message-size: closed with 1009, text or binary
        for (int i = 0; i < 20; i++) {
            byte[] big = ("{\"xrftoken\":\"" + TOKEN + "\",\"x\":\"" + "y".repeat(MAX_MESSAGE + random.nextInt(100_000))
                            + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            cases.add(Case.close(
                    "oversized", i % 4 == 3 ? RawWebsocket.BINARY : RawWebsocket.TEXT, big, 1009, "too_large"));
        }
        // text frames that are not UTF-8: closed with 1007
        List<byte[]> invalid = List.of(
                new byte[] {(byte) 0xff},
                new byte[] {(byte) 0xc3, 0x28},
                new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
                new byte[] {(byte) 0xc0, (byte) 0xaf},
                new byte[] {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80});
        for (int i = 0; i < 20; i++) {
            byte[] prefix = "{\"xrftoken\":\"".getBytes(StandardCharsets.UTF_8);
            byte[] bad = invalid.get(i % invalid.size());
            byte[] frame = new byte[prefix.length + bad.length + 2];
            System.arraycopy(prefix, 0, frame, 0, prefix.length);
            System.arraycopy(bad, 0, frame, prefix.length, bad.length);
            frame[frame.length - 2] = '"';
            frame[frame.length - 1] = '}';
            cases.add(Case.close("invalid utf-8", RawWebsocket.TEXT, frame, 1007, "invalid_utf8"));
        }
        // broken frames: reserved opcodes, an unmasked client frame; closed with 1002
        for (int i = 0; i < 10; i++) {
            if (i % 2 == 0)
                cases.add(Case.close(
                        "unmasked", RawWebsocket.TEXT, "{}".getBytes(StandardCharsets.UTF_8), 1002, "protocol"));
            else
                cases.add(Case.close(
                        "reserved opcode", 3 + i % 5, "{}".getBytes(StandardCharsets.UTF_8), 1002, "protocol"));
        }
        java.util.Collections.shuffle(cases, random);
        return cases;
    }

    private static Map<String, String> cookie() {
        return Map.of("Cookie", "csrftoken=" + TOKEN);
    }

    private static RawWebsocket connect() throws Exception {
        RawWebsocket ws = RawWebsocket.connect(node.websocketUri(), cookie(), true);
        assertThat(ws.nextText(5)).contains("\"accept\":true");
        return ws;
    }

    private static WsTestClient watch(long job) throws Exception {
        WsTestClient client = WsTestClient.connect(node.websocketUri(), "csrftoken=" + TOKEN, true);
        assertThat(client.next().path("accept").asBoolean()).isTrue();
        client.send("{\"xrftoken\":\"" + TOKEN + "\",\"groups\":{\"job_events\":[" + job + "]}}");
        assertThat(client.next().path("groups_current").toString()).contains("job_events-" + job);
        return client;
    }

    /** The first text frame, or null once the connection is closed without one (or after 5 s). */
    private static String firstText(RawWebsocket ws) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            String text = ws.texts.poll(50, TimeUnit.MILLISECONDS);
            if (text != null) return text;
            if (ws.closed.isDone() && ws.texts.isEmpty()) return null;
        }
        return null;
    }

    private static Map<String, Double> rejectedByReason() {
        Map<String, Double> out = new HashMap<>();
        for (String line : Http.get(node.uri("/metrics")).body().split("\n")) {
            if (line.startsWith("ws_messages_rejected_total{")) {
                int at = line.indexOf("reason=\"") + 8;
                out.put(
                        line.substring(at, line.indexOf('"', at)),
                        Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
            }
        }
        return out;
    }

    private static boolean endsWithoutTimeout(InputStream in) throws Exception {
        byte[] buf = new byte[4096];
        try {
            while (in.read(buf) >= 0) {}
            return true;
        } catch (SocketTimeoutException stillOpen) {
            return false;
        } catch (java.io.IOException reset) {
            return true;
        }
    }
}
