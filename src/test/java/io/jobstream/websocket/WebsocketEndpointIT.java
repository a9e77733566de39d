package io.jobstream.websocket;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.Javalin;
import io.javalin.websocket.WsConnectContext;
import io.jobstream.broadcast.Hub;
import io.jobstream.broadcast.MemoryBroadcaster;
import io.jobstream.broadcast.MemoryEventSource;
import io.jobstream.broadcast.TestEvents;
import io.jobstream.config.Config;
import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobChange;
import io.jobstream.event.Json;
import io.jobstream.event.StoredEvent;
import io.jobstream.testing.RawWebsocket;
import io.jobstream.testing.WsTestClient;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiPredicate;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WebsocketEndpointIT {
    private static final String COOKIE = "csrftoken=abc";
    private static final Function<WsConnectContext, Optional<WsIdentity>> USER_1 =
            ctx -> Optional.of(WsIdentity.permanent(1));

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Hub hub = new Hub(registry);
    private final MemoryEventSource store = new MemoryEventSource();
    /** Stores each batch, then broadcasts it, as the receiver does. */
    private final StoringBroadcaster broadcaster = new StoringBroadcaster();

    private final class StoringBroadcaster {
        private final MemoryBroadcaster broadcaster = new MemoryBroadcaster(hub, registry);

        void publish(CommittedBatch batch) {
            batch.events().forEach(store::add);
            broadcaster.publish(batch);
        }

        void publishStatus(long jobId, String status) {
            broadcaster.publishStatus(jobId, status);
        }
    }

    private final List<WsTestClient> clients = new ArrayList<>();
    private WebsocketEndpoint endpoint;
    private Javalin app;

    private void start(
            int outboxCapacity,
            Function<WsConnectContext, Optional<WsIdentity>> auth,
            BiPredicate<Long, Long> jobAccess) {
        endpoint = new WebsocketEndpoint(
                        new Config.WsConfig(outboxCapacity),
                        hub,
                        store,
                        Clock.systemUTC(),
                        registry,
                        auth,
                        JobSight.each(jobAccess))
                .start();
        app = Javalin.create(cfg -> {
                    endpoint.configure(cfg.jetty); // the node's Jetty settings: output buffer, limits
                    endpoint.register(cfg.routes);
                })
                .start("127.0.0.1", 0);
    }

    private void start() {
        start(10_000, USER_1, (user, job) -> true);
    }

    private WsTestClient connect(String path, String cookie, boolean reading) {
        WsTestClient client = WsTestClient.connect(URI.create("ws://127.0.0.1:" + app.port() + path), cookie, reading);
        clients.add(client);
        return client;
    }

    /** Connects a reading client with the csrftoken cookie and consumes the accept frame. */
    private WsTestClient connected() throws Exception {
        WsTestClient client = connect("/websocket/", COOKIE, true);
        assertThat(client.next().get("accept").asBoolean()).isTrue();
        return client;
    }

    @AfterEach
    void stop() {
        clients.forEach(WsTestClient::abort);
        if (endpoint != null) endpoint.close();
        if (app != null) app.stop();
    }

    @Test
    void connecting_on_either_path_is_accepted_with_the_user_id() throws Exception {
        start();
        for (String path : WebsocketEndpoint.PATHS) {
            JsonNode accept = connect(path, COOKIE, true).next();
            assertThat(accept).isEqualTo(json("{\"accept\": true, \"user\": 1}"));
        }
    }

    /**
     * A browser offers permessage-deflate on every handshake; the node declines it (see JettySettings:
     * a compressor per connection, each frame compressed again per subscriber), and frames arrive uncompressed.
     */
    @Test
    void a_browser_offering_compression_gets_plain_frames() throws Exception {
        start();
        try (RawWebsocket client = RawWebsocket.connect(
                URI.create("ws://127.0.0.1:" + app.port() + "/websocket/"),
                Map.of(
                        "Cookie",
                        COOKIE,
                        "Sec-WebSocket-Extensions",
                        "permessage-deflate; client_max_window_bits, x-webkit-deflate-frame"),
                true)) {
            assertThat(client.handshake)
                    .startsWith("HTTP/1.1 101")
                    .doesNotContainIgnoringCase("Sec-WebSocket-Extensions");
            assertThat(json(client.nextText(5))).isEqualTo(json("{\"accept\": true, \"user\": 1}"));
            client.sendText("{\"xrftoken\": \"abc\", \"groups\": {\"job_events\": [5]}}");
            assertThat(client.nextText(5)).contains("groups_current");
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.subscribers("job_events-5") == 1);
            broadcaster.publish(new CommittedBatch(
                    List.of(TestEvents.stored(1, 5, 1, "plain ✓ " + "x".repeat(5_000))), List.of()));
            assertThat(json(client.nextText(5)).get("stdout").asText()).isEqualTo("plain ✓ " + "x".repeat(5_000));
        }
    }

    /**
     * Javalin makes an HTTP session for every websocket upgrade; Jetty's default kept each for good, so a client
     * reconnecting in a loop grew the heap without bound. Now a session lives as long as its websocket and sets no
     * cookie.
     */
    @Test
    void reconnecting_in_a_loop_leaves_no_http_session_behind() throws Exception {
        start();
        URI uri = URI.create("ws://127.0.0.1:" + app.port() + "/websocket/");
        for (int i = 0; i < 300; i++) {
            try (RawWebsocket client = RawWebsocket.connect(uri, Map.of("Cookie", COOKIE), false)) {
                assertThat(client.handshake).doesNotContain("JSESSIONID");
            }
        }
        try (RawWebsocket open = RawWebsocket.connect(uri, Map.of("Cookie", COOKIE), true)) {
            assertThat(json(open.nextText(5)).get("accept").asBoolean()).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.httpSessionsHeld() <= 1);
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> endpoint.httpSessionsHeld() == 0);
    }

    @Test
    void a_wrong_xrftoken_is_refused_and_the_connection_stays_open() throws Exception {
        start();
        WsTestClient client = connected();

        client.send("{\"xrftoken\": \"nope\", \"groups\": {\"jobs\": [\"summary\"]}}");
        assertThat(client.next()).isEqualTo(json("{\"error\": \"access denied to channel\"}"));
        assertThat(hub.hasMembers("jobs-summary")).isFalse();

        client.send("{\"xrftoken\": \"abc\", \"groups\": {\"jobs\": [\"summary\"]}}");
        assertThat(client.next().get("groups_current")).isEqualTo(json("[\"jobs-summary\"]"));
    }

    @Test
    void without_a_csrftoken_cookie_every_message_is_refused() throws Exception {
        start();
        WsTestClient client = connect("/api/websocket/", null, true);
        client.next();

        client.send("{\"xrftoken\": \"\", \"groups\": {\"jobs\": [\"summary\"]}}");
        client.send("{\"xrftoken\": \"abc\", \"groups\": {\"jobs\": [\"summary\"]}}");

        assertThat(client.next().get("error").asText()).isEqualTo("access denied to channel");
        assertThat(client.next().get("error").asText()).isEqualTo("access denied to channel");
    }

    @Test
    void a_groups_message_replaces_the_whole_subscription_set() throws Exception {
        start();
        WsTestClient client = connected();

        client.send("{\"xrftoken\": \"abc\", \"groups\": {\"jobs\": [\"status_changed\", \"summary\"], "
                + "\"job_events\": [42]}}");
        JsonNode first = client.next();
        assertThat(strings(first.get("groups_current")))
                .containsExactlyInAnyOrder("jobs-status_changed", "jobs-summary", "job_events-42");
        assertThat(strings(first.get("groups_left"))).isEmpty();
        assertThat(strings(first.get("groups_joined")))
                .containsExactlyInAnyOrder("jobs-status_changed", "jobs-summary", "job_events-42");

        client.send("{\"xrftoken\": \"abc\", \"groups\": {\"jobs\": [\"summary\"], \"job_events\": [43]}}");
        JsonNode second = client.next();
        assertThat(strings(second.get("groups_current"))).containsExactlyInAnyOrder("jobs-summary", "job_events-43");
        assertThat(strings(second.get("groups_left")))
                .containsExactlyInAnyOrder("jobs-status_changed", "job_events-42");
        assertThat(strings(second.get("groups_joined"))).containsExactly("job_events-43");

        client.send("{\"xrftoken\": \"abc\", \"groups\": {}}");
        JsonNode none = client.next();
        assertThat(strings(none.get("groups_current"))).isEmpty();
        assertThat(strings(none.get("groups_left"))).containsExactlyInAnyOrder("jobs-summary", "job_events-43");
        assertThat(hub.subscriptions()).isZero();
    }

    @Test
    void bad_messages_get_error_replies_and_a_message_without_groups_gets_none() throws Exception {
        start();
        WsTestClient client = connected();
        client.send("{\"xrftoken\": \"abc\", \"groups\": {\"jobs\": [\"summary\"]}}");
        client.next();

        client.send("{\"xrftoken\": \"abc\", \"groups\": {\"job_events\": 42}}");
        assertThat(client.next()).isEqualTo(json("{\"error\": \"access denied to channel\"}"));
        client.send("{not json");
        assertThat(client.next().has("error")).isTrue();
        client.send("{\"xrftoken\": \"abc\"}"); // accepted silently
        client.send("{\"xrftoken\": \"abc\", \"groups\": {\"jobs\": [\"summary\"]}}");

        JsonNode reply = client.next();
        assertThat(strings(reply.get("groups_current"))).containsExactly("jobs-summary");
        assertThat(strings(reply.get("groups_joined")))
                .as("the refused message changed nothing")
                .isEmpty();
    }

    @Test
    void job_ids_the_user_may_not_see_are_skipped_and_the_others_joined() throws Exception {
        start(10_000, USER_1, (user, job) -> job != 13);
        WsTestClient client = connected();

        client.send("{\"xrftoken\": \"abc\", \"groups\": {\"job_events\": [13, 42]}}");

        assertThat(client.next())
                .isEqualTo(json("{\"error\": \"access denied to channel job_events for resource id 13\"}"));
        assertThat(strings(client.next().get("groups_current"))).containsExactly("job_events-42");
    }

    @Test
    void an_unauthenticated_connection_is_closed_with_policy_violation() {
        start(10_000, ctx -> Optional.empty(), (user, job) -> true);
        WsTestClient client = connect("/websocket/", COOKIE, true);

        assertThat(client.closed).succeedsWithin(Duration.ofSeconds(5)).isEqualTo(1008);
    }

    @Test
    void published_events_and_job_changes_arrive_in_awx_shapes() throws Exception {
        start();
        WsTestClient client = connected();
        client.send("{\"xrftoken\": \"abc\", \"groups\": {\"jobs\": [\"status_changed\", \"summary\"], "
                + "\"job_events\": [42]}}");
        client.next();

        broadcaster.publish(new CommittedBatch(
                List.of(
                        TestEvents.stored(100, 42, 1, "PLAY [all]"),
                        TestEvents.stored(101, 43, 1, "other job"),
                        TestEvents.stored(102, 42, 2, "ok: [web1]")),
                List.of(new JobChange(42, "successful", 2, true))));

        JsonNode first = client.next();
        assertThat(first.get("id").asLong()).isEqualTo(100);
        assertThat(first.get("group_name").asText()).isEqualTo("job_events");
        assertThat(first.get("url").asText()).isEqualTo("/api/v2/job_events/100");
        assertThat(first.get("stdout").asText()).isEqualTo("PLAY [all]");
        assertThat(first.get("event_data").get("host").asText()).isEqualTo("web1");
        assertThat(first.get("modified")).isEqualTo(first.get("created"));
        assertThat(client.next().get("counter").asInt()).isEqualTo(2);
        assertThat(client.next())
                .isEqualTo(json("{\"unified_job_id\": 42, \"status\": \"successful\", "
                        + "\"type\": \"job\", \"group_name\": \"jobs\"}"));
        assertThat(client.next())
                .isEqualTo(json("{\"group_name\": \"jobs\", \"unified_job_id\": 42, " + "\"final_counter\": 2}"));

        broadcaster.publishStatus(42, "running");
        assertThat(client.next().get("status").asText()).isEqualTo("running");
    }

    @Test
    void slow_subscriber_is_caught_up_from_the_store_without_delaying_others() throws Exception {
        start(8, USER_1, (user, job) -> true);
        WsTestClient reader = connected();
        WsTestClient stuck = connect("/websocket/", COOKIE, false);
        String subscribe = "{\"xrftoken\": \"abc\", \"groups\": {\"job_events\": [7]}}";
        reader.send(subscribe);
        reader.next();
        stuck.send(subscribe);
        // a subscribe reads where its feeds start before it joins the hub: both are live from counter 1 now
        await().atMost(Duration.ofSeconds(5)).until(() -> hub.subscribers("job_events-7") == 2);

        // publish in small batches, each read by the reader before the next, until the stuck client's socket
        // buffers and outbox are full and it switched to catch-up; the reader's outbox never holds more than a batch
        String stdout = "x".repeat(64 * 1024);
        int counter = 0;
        List<Integer> received = new ArrayList<>();
        while (counter < 2_000) {
            List<StoredEvent> batch = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                counter++;
                batch.add(TestEvents.stored(counter, 7, counter, stdout));
            }
            broadcaster.publish(new CommittedBatch(batch, List.of()));
            for (int i = 0; i < batch.size(); i++)
                received.add(reader.next().get("counter").asInt());
            if (registry.get("ws.catchups").tag("reason", "overflow").counter().count() > 0 && counter >= 400) break;
        }

        assertThat(registry.get("ws.catchups")
                        .tag("reason", "overflow")
                        .counter()
                        .count())
                .isEqualTo(1);
        assertThat(registry.get("ws.over.capacity")
                        .tag("group", "job_events")
                        .counter()
                        .count())
                .isEqualTo(1);
        assertThat(hub.subscribers("job_events-7"))
                .as("the stuck client is still subscribed")
                .isEqualTo(2);
        assertThat(received)
                .as("the reader got every event, in order")
                .containsExactlyElementsOf(
                        IntStream.rangeClosed(1, counter).boxed().toList());

        stuck.startReading();
        int last = counter;
        List<Integer> caughtUp = new ArrayList<>();
        while (caughtUp.isEmpty() || caughtUp.get(caughtUp.size() - 1) < last) {
            JsonNode frame = stuck.next();
            if (frame.has("counter")) caughtUp.add(frame.get("counter").asInt());
        }
        assertThat(caughtUp)
                .as("the slow client, once reading, got everything in order")
                .containsExactlyElementsOf(
                        IntStream.rangeClosed(1, last).boxed().toList());
        broadcaster.publish(new CommittedBatch(List.of(TestEvents.stored(9_999, 7, last + 1, "after")), List.of()));
        assertThat(reader.next().get("stdout").asText()).isEqualTo("after");
        assertThat(stuck.next().get("stdout").asText()).as("and is live again").isEqualTo("after");
        assertThat(registry.find("ws.disconnects").counters())
                .as("nobody was disconnected")
                .isEmpty();
    }

    /**
     * Issue 15: a flush writes many queued events together (Jetty's batch mode), and the client must still see each
     * event as its own whole text frame, in order. Read by a bare-socket client that keeps frames as they came (a
     * continuation or a frame holding two messages would show); sizes straddle Jetty's aggregation limit (a quarter
     * of its output buffer) and the 16-bit length, and the text is not all ASCII.
     */
    @Test
    void many_frames_flushed_together_arrive_as_the_same_frames_in_order() throws Exception {
        start();
        try (RawWebsocket client = RawWebsocket.connect(
                URI.create("ws://127.0.0.1:" + app.port() + "/websocket/"), Map.of("Cookie", COOKIE), true)) {
            assertThat(json(client.nextText(5)).get("accept").asBoolean()).isTrue();
            client.sendText("{\"xrftoken\": \"abc\", \"groups\": {\"job_events\": [5]}}");
            assertThat(client.nextText(5)).contains("groups_current");
            await().atMost(Duration.ofSeconds(5)).until(() -> hub.subscribers("job_events-5") == 1);

            int events = 3_000;
            List<String> stdouts = new ArrayList<>();
            for (int counter = 1; counter <= events; counter++) {
                int size = counter % 500 == 0 ? 70_000 : counter % 50 == 0 ? 9_000 : counter % 300;
                stdouts.add("é✓😀 " + counter + " " + "x".repeat(size));
            }
            for (int from = 1; from <= events; from += 500) { // batches as the receiver commits them
                List<StoredEvent> batch = new ArrayList<>();
                for (int c = from; c < from + 500; c++) batch.add(TestEvents.stored(c, 5, c, stdouts.get(c - 1)));
                broadcaster.publish(new CommittedBatch(batch, List.of()));
            }

            for (int counter = 1; counter <= events; counter++) {
                String frame = client.nextText(10);
                assertThat(frame).as("frame %d", counter).isNotNull();
                JsonNode event = json(frame);
                assertThat(event.get("counter").asInt()).isEqualTo(counter);
                assertThat(event.get("stdout").asText()).isEqualTo(stdouts.get(counter - 1));
            }
            assertThat(client.nextText(0)).as("nothing more").isNull();
            assertThat(registry.get("ws.events.written").counter().count()).isEqualTo(events);
        }
    }

    /**
     * Issue 15: a client that goes away while a flush of its frames is being written (its socket full, then reset)
     * is dropped and cleaned up, and the others on the same job lose nothing.
     */
    @Test
    void a_client_that_disconnects_mid_flush_is_dropped_and_others_get_everything() throws Exception {
        start();
        WsTestClient reader = connected();
        RawWebsocket leaving = RawWebsocket.connect(
                URI.create("ws://127.0.0.1:" + app.port() + "/websocket/"), Map.of("Cookie", COOKIE), false);
        String subscribe = "{\"xrftoken\": \"abc\", \"groups\": {\"job_events\": [9]}}";
        reader.send(subscribe);
        reader.next();
        leaving.sendText(subscribe);
        await().atMost(Duration.ofSeconds(5)).until(() -> hub.subscribers("job_events-9") == 2);

        String stdout = "y".repeat(16 * 1024);
        int events = 400; // 6.4 MB: far more than the never-reading client's socket buffers hold
        List<Integer> received = new ArrayList<>();
        for (int from = 1; from <= events; from += 40) {
            List<StoredEvent> batch = new ArrayList<>();
            for (int c = from; c < from + 40; c++) batch.add(TestEvents.stored(c, 9, c, stdout));
            broadcaster.publish(new CommittedBatch(batch, List.of()));
            for (int i = 0; i < batch.size(); i++)
                received.add(reader.next().get("counter").asInt());
        }
        leaving.close(); // unread data in its receive buffer: the kernel resets the connection

        await().atMost(Duration.ofSeconds(10)).until(() -> hub.subscribers("job_events-9") == 1);
        assertThat(registry.find("ws.disconnects").counters())
                .as("dropped once, whichever noticed first (the failed write or Jetty's close)")
                .hasSize(1)
                .allMatch(c -> c.count() == 1);
        broadcaster.publish(
                new CommittedBatch(List.of(TestEvents.stored(events + 1, 9, events + 1, "after")), List.of()));
        received.add(reader.next().get("counter").asInt());
        assertThat(received)
                .containsExactlyElementsOf(
                        IntStream.rangeClosed(1, events + 1).boxed().toList());
    }

    private static JsonNode json(String text) throws Exception {
        return Json.MAPPER.readTree(text);
    }

    private static List<String> strings(JsonNode array) {
        List<String> values = new ArrayList<>();
        array.forEach(v -> values.add(v.asText()));
        return values;
    }
}
