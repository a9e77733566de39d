package io.jobstream.auth;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.WsTestClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URLEncoder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * http.trusted-proxies against real nodes: one trusting 127.0.0.1 (nginx on the host), one trusting nobody. Linux
 * routes all of 127/8 to loopback, so a request from 127.0.0.1 plays the proxy and one from 127.0.0.3 a client that
 * reaches the node directly and sends X-Forwarded-* of its own choosing. Failed password checks are throttled per
 * client address (auth.failed-logins-per-address); each try uses another unknown username so that the per-username
 * limit never speaks first.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrustedProxiesIT {
    private static final int PER_ADDRESS = 3;
    private static final String PROXY = "127.0.0.1";
    private static final String DIRECT = "127.0.0.3";
    private static final AtomicInteger NAMES = new AtomicInteger();

    private RunningServer trusting;
    private RunningServer trustingNobody;

    @BeforeAll
    void start() throws Exception {
        Map<String, String> common = Map.of(
                "auth.failed-logins-per-address", Integer.toString(PER_ADDRESS), "auth.failed-logins-per-user", "1000");
        Map<String, String> trust = new LinkedHashMap<>(common);
        trust.put("http.trusted-proxies", "10.0.0.0/8, 127.0.0.1, ::1");
        trusting = RunningServer.start(TempDirs.make("trusted-proxies"), trust);
        trustingNobody = RunningServer.start(TempDirs.make("trusted-proxies-none"), common);
    }

    @AfterAll
    void stop() {
        if (trusting != null) trusting.close();
        if (trustingNobody != null) trustingNobody.close();
    }

    @Test
    void trusting_nobody_a_spoofed_x_forwarded_for_changes_nothing() throws Exception {
        // every try claims another client: all are the peer's, and the peer is throttled after PER_ADDRESS
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < PER_ADDRESS + 2; i++)
            statuses.add(
                    failedLogin(trustingNobody, PROXY, "203.0.113." + (10 + i)).status());
        assertThat(statuses.subList(0, PER_ADDRESS)).containsOnly(401);
        assertThat(statuses.subList(PER_ADDRESS, statuses.size())).containsOnly(429);
        // nor does X-Forwarded-Proto make cookies Secure
        Reply api = send(trustingNobody, PROXY, "GET", "/api/", Map.of("X-Forwarded-Proto", "https"), null);
        assertThat(cookie(api, "csrftoken")).isNotNull().doesNotContainIgnoringCase("secure");
    }

    @Test
    void from_an_untrusted_peer_forwarded_headers_are_ignored_even_with_trust_on() throws Exception {
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < PER_ADDRESS + 2; i++)
            statuses.add(failedLogin(trusting, DIRECT, "198.51.100." + (10 + i) + ", 127.0.0.1")
                    .status());
        assertThat(statuses.subList(0, PER_ADDRESS)).containsOnly(401);
        assertThat(statuses.subList(PER_ADDRESS, statuses.size())).containsOnly(429);
        // and the addresses it claimed were not charged: a proxied client of one of them is still welcome
        assertThat(failedLogin(trusting, PROXY, "198.51.100.10").status()).isEqualTo(401);

        Reply api = send(trusting, DIRECT, "GET", "/api/", Map.of("X-Forwarded-Proto", "https"), null);
        assertThat(cookie(api, "csrftoken")).isNotNull().doesNotContainIgnoringCase("secure");
    }

    @Test
    void behind_a_trusted_proxy_two_clients_failing_logins_are_throttled_apart() throws Exception {
        for (int i = 0; i < PER_ADDRESS; i++)
            assertThat(failedLogin(trusting, PROXY, "203.0.113.1").status()).isEqualTo(401);
        assertThat(failedLogin(trusting, PROXY, "203.0.113.1").status()).isEqualTo(429);
        // the locked-out client cannot escape by writing another address first: only the rightmost counts
        assertThat(failedLogin(trusting, PROXY, "192.0.2.77, 203.0.113.1").status())
                .isEqualTo(429);
        // through a second trusted proxy (10.0.0.5) it is still the same client
        assertThat(failedLogin(trusting, PROXY, "203.0.113.1, 10.0.0.5").status())
                .isEqualTo(429);
        // another client behind the same proxy, and the proxy's own requests, are not locked out
        assertThat(failedLogin(trusting, PROXY, "203.0.113.2").status()).isEqualTo(401);
        assertThat(failedLogin(trusting, PROXY, "2001:db8::2").status()).isEqualTo(401);
        assertThat(send(trusting, PROXY, "GET", "/api/v2/me/", Map.of("Authorization", TestUsers.ADMIN_AUTH), null)
                        .status())
                .isEqualTo(200);
    }

    @Test
    void the_session_cookie_is_secure_when_a_trusted_proxy_says_https_and_only_then() throws Exception {
        String https = login(trusting, PROXY, Map.of("X-Forwarded-Proto", "https"));
        assertThat(https).containsIgnoringCase("; secure");
        assertThat(login(trusting, PROXY, Map.of())).doesNotContainIgnoringCase("secure");
        assertThat(login(trusting, PROXY, Map.of("X-Forwarded-Proto", "http"))).doesNotContainIgnoringCase("secure");
        assertThat(login(trusting, DIRECT, Map.of("X-Forwarded-Proto", "https")))
                .doesNotContainIgnoringCase("secure");
        assertThat(login(trustingNobody, PROXY, Map.of("X-Forwarded-Proto", "https")))
                .doesNotContainIgnoringCase("secure");
        // the browser's page is then on https: an Origin on plain http is another site
        int port = trusting.uri("/").getPort();
        assertThat(login(trusting, PROXY, Map.of("X-Forwarded-Proto", "https", "Origin", "https://127.0.0.1:" + port)))
                .containsIgnoringCase("; secure");
        Reply forged =
                loginReply(trusting, PROXY, Map.of("X-Forwarded-Proto", "https", "Origin", "http://127.0.0.1:" + port));
        assertThat(forged.status()).isEqualTo(403);
    }

    @Test
    void a_websocket_behind_a_trusted_proxy_is_the_forwarded_client_in_stats() throws Exception {
        WsTestClient proxied = WsTestClient.connect(
                trusting.websocketUri(),
                Map.of("Authorization", TestUsers.ADMIN_AUTH, "X-Forwarded-For", "192.0.2.9, 203.0.113.44"),
                true);
        WsTestClient spoofing = WsTestClient.connect(
                trustingNobody.websocketUri(),
                Map.of("Authorization", TestUsers.ADMIN_AUTH, "X-Forwarded-For", "203.0.113.45"),
                true);
        try {
            assertThat(proxied.next().path("accept").asBoolean()).isTrue();
            assertThat(spoofing.next().path("accept").asBoolean()).isTrue();
            assertThat(remotes(trusting)).contains("203.0.113.44");
            // (other tests' websockets may not be gone yet: all of them are 127.0.0.1's too)
            assertThat(remotes(trustingNobody))
                    .isNotEmpty()
                    .allSatisfy(r -> assertThat(r).startsWith("127.0.0.1:"));
        } finally {
            proxied.abort();
            spoofing.abort();
        }
    }

    @Test
    void a_cookie_websocket_behind_a_tls_proxy_needs_an_https_origin_only_when_a_trusted_proxy_says_https()
            throws Exception {
        int port = trusting.uri("/").getPort();
        String https = "https://127.0.0.1:" + port;
        String http = "http://127.0.0.1:" + port;
        String session = sessionCookie(login(trusting, PROXY, Map.of("X-Forwarded-Proto", "https")));
        // the page the browser runs is on https at the proxy: its https Origin is this site
        assertThat(handshake(trusting, session, https, "https")).isEqualTo("accepted");
        // a plain-http page on the same name and port, which a network attacker can serve, is another site
        assertThat(handshake(trusting, session, http, "https")).isEqualTo("closed 1008");
        assertThat(handshake(trusting, session, "https://evil.example", "https"))
                .isEqualTo("closed 1008");
        // without X-Forwarded-Proto the client is on http: the scheme is not compared, host and port decide
        assertThat(handshake(trusting, session, http, null)).isEqualTo("accepted");
        // trusting nobody, the claimed https is ignored, so it tightens nothing and loosens nothing
        int other = trustingNobody.uri("/").getPort();
        String untrusted = sessionCookie(login(trustingNobody, PROXY, Map.of()));
        assertThat(handshake(trustingNobody, untrusted, "http://127.0.0.1:" + other, "https"))
                .isEqualTo("accepted");
        assertThat(handshake(trustingNobody, untrusted, "https://evil.example", "https"))
                .isEqualTo("closed 1008");
    }

    @Test
    void the_login_form_behind_a_tls_proxy_needs_an_https_origin_only_when_a_trusted_proxy_says_https()
            throws Exception {
        int port = trusting.uri("/").getPort();
        assertThat(loginReply(trusting, PROXY, Map.of("X-Forwarded-Proto", "https", "Origin", "https://evil.example"))
                        .status())
                .isEqualTo(403);
        // from an untrusted peer X-Forwarded-Proto is ignored: an http Origin is still this site
        assertThat(loginReply(
                                trusting,
                                DIRECT,
                                Map.of("X-Forwarded-Proto", "https", "Origin", "http://127.0.0.1:" + port))
                        .status())
                .isEqualTo(302);
        assertThat(loginReply(
                                trustingNobody,
                                PROXY,
                                Map.of(
                                        "X-Forwarded-Proto",
                                        "https",
                                        "Origin",
                                        "http://127.0.0.1:"
                                                + trustingNobody.uri("/").getPort()))
                        .status())
                .isEqualTo(302);
    }

    /** A websocket handshake from 127.0.0.1 with a session cookie: "accepted", or how the node closed it. */
    private static String handshake(RunningServer node, String cookie, String origin, String forwardedProto)
            throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("Cookie", cookie);
        headers.put("Origin", origin);
        if (forwardedProto != null) headers.put("X-Forwarded-Proto", forwardedProto);
        WsTestClient ws = WsTestClient.connect(node.websocketUri(), headers, true);
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                if (ws.closed.isDone()) return "closed " + ws.closed.get();
                String frame = ws.frames.poll(100, TimeUnit.MILLISECONDS);
                if (frame != null
                        && new ObjectMapper().readTree(frame).path("accept").asBoolean()) return "accepted";
            }
            return "neither accepted nor closed within 30 s";
        } finally {
            ws.abort();
        }
    }

    /** {@code name=value} of a Set-Cookie line, to send back. */
    private static String sessionCookie(String setCookie) {
        String pair = setCookie.substring("Set-Cookie: ".length());
        return pair.substring(0, pair.indexOf(';'));
    }

    private static List<String> remotes(RunningServer node) throws Exception {
        JsonNode stats = new ObjectMapper()
                .readTree(Http.get(node.uri("/api/v2/stats/"), TestUsers.ADMIN_AUTH)
                        .body());
        List<String> remotes = new ArrayList<>();
        stats.path("websocket")
                .path("most_queued")
                .forEach(s -> remotes.add(s.path("remote").asText()));
        return remotes;
    }

    /** A wrong password for a username never used before, as the client {@code forwardedFor} names. */
    private static Reply failedLogin(RunningServer node, String from, String forwardedFor) throws IOException {
        String user = "nobody" + NAMES.incrementAndGet();
        return send(
                node,
                from,
                "GET",
                "/api/v2/me/",
                Map.of("Authorization", TestUsers.basic(user, "guess"), "X-Forwarded-For", forwardedFor),
                null);
    }

    /** awxkit's login at /api/login/ as admin; the session cookie it set. */
    private static String login(RunningServer node, String from, Map<String, String> headers) throws IOException {
        Reply r = loginReply(node, from, headers);
        assertThat(r.status()).as(r.head()).isEqualTo(302);
        return cookie(r, "awx_sessionid");
    }

    private static Reply loginReply(RunningServer node, String from, Map<String, String> headers) throws IOException {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put("Cookie", "csrftoken=abcdefghijklmnop0123");
        h.put("X-CSRFToken", "abcdefghijklmnop0123");
        h.put("Content-Type", "application/x-www-form-urlencoded");
        String body = "username=" + TestUsers.ADMIN + "&password="
                + URLEncoder.encode(TestUsers.ADMIN_PASSWORD, US_ASCII) + "&next=/api/";
        return send(node, from, "POST", "/api/login/", h, body);
    }

    private static String cookie(Reply r, String name) {
        for (String line : r.head().split("\n")) {
            if (line.regionMatches(true, 0, "Set-Cookie: " + name + "=", 0, 13 + name.length())) return line;
        }
        return null;
    }

    record Reply(int status, String head) {}

    /** One HTTP/1.1 request from the given local address (the JDK client cannot bind one). */
    private static Reply send(
            RunningServer node, String from, String method, String path, Map<String, String> headers, String body)
            throws IOException {
        int port = node.uri("/").getPort();
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(from, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            s.setSoTimeout(60_000);
            StringBuilder request = new StringBuilder(
                    method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nConnection: close\r\n");
            headers.forEach((k, v) -> request.append(k).append(": ").append(v).append("\r\n"));
            byte[] content = body == null ? new byte[0] : body.getBytes(US_ASCII);
            if (body != null)
                request.append("Content-Length: ").append(content.length).append("\r\n");
            request.append("\r\n");
            s.getOutputStream().write(request.toString().getBytes(US_ASCII));
            s.getOutputStream().write(content);
            String head = readHead(s.getInputStream());
            return new Reply(Integer.parseInt(head.split(" ")[1]), head);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            String s = b.toString(US_ASCII);
            if (s.endsWith("\r\n\r\n")) break;
        }
        return b.toString(US_ASCII).replace("\r\n", "\n");
    }
}
