package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.testing.Events;
import io.jobstream.testing.HeadlessChromium;
import io.jobstream.testing.Http;
import io.jobstream.testing.Nginx;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.SseClient;
import io.jobstream.testing.TestJobs;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.TrustingClient;
import io.jobstream.testing.WsTestClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;

/**
 * Issue 18's proxies: Debian's nginx runs the shipped {@code docs/deploy/nginx.conf} (ports and certificate
 * substituted, {@link Nginx}) in front of a real node, and REST, the websocket (subscribe and resume), server-sent
 * events and the job page in a browser all work through it over TLS. A second nginx refuses websockets, as some
 * corporate proxies do: the job page then follows the job over server-sent events by itself and says why. The node
 * trusts the nginx (http.trusted-proxies=127.0.0.1): the browser's https page logs in and opens its websocket with an
 * https Origin, its session cookie is Secure, and the login throttle counts each client behind nginx apart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProxyIT {
    private static final String ADMIN = TestUsers.ADMIN_AUTH;
    private static final int FAILED_LOGINS = 3;

    @TempDir
    static Path dir;

    private RunningServer node;
    private Nginx proxy;
    private HttpClient client;

    @BeforeAll
    void start() throws Exception {
        // the node trusts the nginx in front of it (on this host), as docs/deploy/nginx.conf tells operators to
        node = RunningServer.start(
                dir.resolve("node"),
                Map.of(
                        "sse.heartbeat",
                        "1s",
                        "http.trusted-proxies",
                        "127.0.0.1",
                        "auth.failed-logins-per-address",
                        Integer.toString(FAILED_LOGINS)));
        proxy = Nginx.start(dir.resolve("nginx"), node.uri("/").getPort());
        client = TrustingClient.of(proxy.certificate);
    }

    @AfterAll
    void stop() throws Exception {
        if (proxy != null) proxy.close();
        if (node != null) node.close();
    }

    @Test
    void rest_goes_through_the_proxy_over_tls_and_plain_http_is_sent_to_https() throws Exception {
        HttpResponse<String> ping = get(proxy.https("/api/v2/ping/"), null);
        assertThat(ping.statusCode()).as(proxy.errorLog()).isEqualTo(200);
        assertThat(Http.json(ping.body()).get("version").asText()).isNotEmpty();
        assertThat(get(proxy.https("/api/v2/jobs/"), null).statusCode()).isEqualTo(401);
        assertThat(get(proxy.https("/api/v2/jobs/"), ADMIN).statusCode()).isEqualTo(200);
        HttpResponse<String> plain = HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(proxy.http("/jobs/1")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(plain.statusCode()).isEqualTo(301);
        assertThat(plain.headers().firstValue("Location")).hasValue("https://127.0.0.1/jobs/1");
    }

    @Test
    void a_websocket_subscribes_and_resumes_through_the_proxy() throws Exception {
        long job = TestJobs.allocate(node.uri("/"), ADMIN);
        ingest(job, 1, 10);
        URI wss = URI.create("wss://127.0.0.1:" + proxy.httpsPort + "/websocket/");
        WsTestClient ws = WsTestClient.connect(client, wss, "csrftoken=proxy", ADMIN, true);
        assertThat(ws.next().path("accept").asBoolean()).isTrue();
        ws.send("{\"xrftoken\":\"proxy\",\"groups\":{\"job_events\":[" + job + "]},\"resume\":{\"" + job + "\":0}}");
        assertThat(counters(ws, 10)).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
        ingest(job, 11, 15);
        assertThat(counters(ws, 5)).containsExactly(11, 12, 13, 14, 15);
        ws.abort();
        ingest(job, 16, 20); // missed while away
        WsTestClient again = WsTestClient.connect(client, wss, "csrftoken=proxy", ADMIN, true);
        assertThat(again.next().path("accept").asBoolean()).isTrue();
        again.send(
                "{\"xrftoken\":\"proxy\",\"groups\":{\"job_events\":[" + job + "]},\"resume\":{\"" + job + "\":15}}");
        assertThat(counters(again, 5)).containsExactly(16, 17, 18, 19, 20);
        ingest(job, 21, 22);
        assertThat(counters(again, 2)).containsExactly(21, 22);
        again.abort();
    }

    @Test
    void server_sent_events_pass_the_proxy_one_by_one_with_heartbeats_and_resume_with_last_event_id() throws Exception {
        long job = TestJobs.allocate(node.uri("/"), ADMIN);
        ingest(job, 1, 3);
        URI stream = proxy.https("/api/v2/jobs/" + job + "/events/stream/");
        try (SseClient sse = SseClient.open(client, stream, ADMIN, null)) {
            assertThat(sse.status).as(proxy.errorLog()).isEqualTo(200);
            assertThat(sse.contentType).startsWith("text/event-stream");
            for (int c = 1; c <= 3; c++) assertThat(nextEvent(sse).id()).isEqualTo(Integer.toString(c));
            // one small event: a buffering proxy would hold it until its buffer filled
            ingest(job, 4, 4);
            assertThat(nextEvent(sse).id()).isEqualTo("4");
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (sse.comments() < 3 && System.nanoTime() < deadline) Thread.sleep(100);
            assertThat(sse.comments()).as("heartbeats reach the client").isGreaterThanOrEqualTo(3);
        }
        ingest(job, 5, 6);
        ingest(job, 7, 7);
        try (SseClient resumed = SseClient.open(client, stream, ADMIN, "4")) {
            for (int c = 5; c <= 7; c++) assertThat(nextEvent(resumed).id()).isEqualTo(Integer.toString(c));
            post(Events.eof(job, 7));
            SseClient.Event end = resumed.next(30);
            while (end.type().equals("status_changed")) end = resumed.next(30);
            assertThat(end.type()).isEqualTo("end");
        }
    }

    @Test
    void the_job_page_shows_live_output_through_the_proxy_over_its_websocket() throws Exception {
        long job = TestJobs.allocate(node.uri("/"), ADMIN);
        ingest(job, 1, 20);
        try (HeadlessChromium browser = HeadlessChromium.start("--ignore-certificate-errors")) {
            JavascriptExecutor js = (JavascriptExecutor) browser.driver;
            browser.logIn(proxy.https("/"));
            browser.driver.get(proxy.https("/jobs/" + job).toString());
            browser.wait.until(d ->
                    d.findElement(By.cssSelector("#conn .conn-state")).getText().equals("open"));
            browser.wait.until(d -> d.findElement(By.id("job-lines")).getText().equals("18"));
            ingest(job, 21, 40);
            post(Events.eof(job, 40));
            browser.wait.until(d -> d.findElement(By.id("job-lines")).getText().equals("36"));
            assertThat(js.executeScript("return window.jobstream.transport")).isEqualTo("websocket");
            // nginx said X-Forwarded-Proto: https, and the node trusts it: the session cookie is Secure
            assertThat(browser.driver.manage().getCookieNamed("sessionid").isSecure())
                    .isTrue();
            browser.screenshot("proxy-job-page-websocket");
        }
    }

    @Test
    void behind_a_proxy_that_refuses_websockets_the_job_page_falls_back_to_server_sent_events_and_says_why()
            throws Exception {
        try (Nginx blocking = Nginx.start(
                        dir.resolve("nginx-no-ws"),
                        node.uri("/").getPort(),
                        site -> site.replace("location /websocket/ {", "location /websocket/ {\n        return 403;")
                                .replace(
                                        "location /api/websocket/ {",
                                        "location /api/websocket/ {\n        return 403;"));
                HeadlessChromium browser = HeadlessChromium.start("--ignore-certificate-errors")) {
            HttpClient trusting = TrustingClient.of(blocking.certificate);
            assertThat(trusting.send(
                                    HttpRequest.newBuilder(blocking.https("/websocket/"))
                                            .header("Authorization", ADMIN)
                                            .build(),
                                    HttpResponse.BodyHandlers.discarding())
                            .statusCode())
                    .as("this proxy refuses the websocket path")
                    .isEqualTo(403);
            long job = TestJobs.allocate(node.uri("/"), ADMIN);
            ingest(job, 1, 20);
            JavascriptExecutor js = (JavascriptExecutor) browser.driver;
            browser.logIn(blocking.https("/"));
            browser.driver.get(blocking.https("/jobs/" + job).toString());
            browser.wait.until(d ->
                    d.findElement(By.cssSelector("#conn .conn-state")).getText().equals("open"));
            String detail = browser.driver
                    .findElement(By.cssSelector("#conn .conn-detail"))
                    .getText();
            assertThat(detail).contains("server-sent events").contains("websocket could not connect");
            assertThat(js.executeScript("return window.jobstream.transport")).isEqualTo("sse");
            browser.wait.until(d -> d.findElement(By.id("job-lines")).getText().equals("18"));
            // live through the stream, then its end
            ingest(job, 21, 30);
            browser.wait.until(d -> d.findElement(By.id("job-lines")).getText().equals("27"));
            ingest(job, 31, 40);
            post(Events.eof(job, 40));
            browser.wait.until(d -> d.findElement(By.id("job-lines")).getText().equals("36"));
            browser.wait.until(d -> d.findElement(By.cssSelector("#conn .conn-detail"))
                    .getText()
                    .contains("complete"));
            List<String> expected = List.of(Events.expectedText(job, 40).split("\n"));
            String last = (String) js.executeScript("const l = [...document.querySelectorAll('#output .line .tx')];"
                    + " return l.length ? l[l.length - 1].textContent : ''");
            assertThat(last).isEqualTo(expected.get(expected.size() - 1));
            browser.screenshot("proxy-job-page-sse-fallback");
        }
    }

    @Test
    void the_login_throttle_sees_each_client_behind_the_proxy_not_the_proxy() throws Exception {
        // 127.0.0.5 guesses, and writes an X-Forwarded-For of its own to look like someone else: nginx appends the
        // address it really came from, and the node takes that one
        for (int i = 0; i < FAILED_LOGINS; i++)
            assertThat(tlsGet("127.0.0.5", "guess" + i, "127.0.0.9")).isEqualTo(401);
        assertThat(tlsGet("127.0.0.5", "guess-again", "127.0.0.9")).isEqualTo(429);
        // another client of the same proxy is not locked out, nor the one it claimed to be
        assertThat(tlsGet("127.0.0.6", "guess", null)).isEqualTo(401);
        assertThat(tlsGet("127.0.0.9", "guess", null)).isEqualTo(401);
    }

    /** GET /api/v2/me/ through nginx's TLS port from {@code from}, with a wrong password for a fresh name. */
    private int tlsGet(String from, String user, String forwardedFor) throws Exception {
        try (SSLSocket s = (SSLSocket) client.sslContext().getSocketFactory().createSocket()) {
            s.bind(new InetSocketAddress(from, 0));
            s.connect(new InetSocketAddress("127.0.0.1", proxy.httpsPort), 5_000);
            s.setSoTimeout(60_000);
            s.startHandshake();
            String request = "GET /api/v2/me/ HTTP/1.1\r\nHost: 127.0.0.1:" + proxy.httpsPort + "\r\nAuthorization: "
                    + TestUsers.basic("proxy-" + from + "-" + user, "wrong") + "\r\n"
                    + (forwardedFor == null ? "" : "X-Forwarded-For: " + forwardedFor + "\r\n")
                    + "Connection: close\r\n\r\n";
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            String status =
                    new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            assertThat(status).as(proxy.errorLog()).startsWith("HTTP/1.1 ");
            return Integer.parseInt(status.split(" ")[1]);
        }
    }

    private List<Integer> counters(WsTestClient ws, int n) throws Exception {
        List<Integer> seen = new ArrayList<>();
        while (seen.size() < n) {
            JsonNode frame = ws.next();
            if (frame.has("counter")) seen.add(frame.get("counter").asInt());
        }
        return seen;
    }

    private static SseClient.Event nextEvent(SseClient sse) throws InterruptedException {
        while (true) {
            SseClient.Event e = sse.next(30);
            if (e.type().equals("message")) return e;
        }
    }

    private HttpResponse<String> get(URI uri, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30));
        if (authorization != null) b.header("Authorization", authorization);
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Events go to the node directly: the emitter's path is not what this test is about. */
    private void ingest(long job, int from, int to) {
        StringBuilder body = new StringBuilder();
        for (int c = from; c <= to; c++) body.append(Events.event(job, c)).append('\n');
        post(body.toString());
    }

    private void post(String body) {
        HttpResponse<String> r = Http.post(node.uri("/api/v2/job_events/ingest/"), body, ADMIN);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
}
