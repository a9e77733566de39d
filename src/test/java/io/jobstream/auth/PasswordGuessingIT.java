package io.jobstream.auth;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 13 item 6 against a real node: each wrong password costs a PBKDF2 hash (about 0.2 s of a core), so failed
 * attempts are throttled per client address and per username, and the node hashes a bounded number of times however
 * many guesses arrive. Other clients are told apart by their loopback address (127.0.0.2, …: Linux routes all of
 * 127/8 to the loopback interface), so one test machine plays several hosts.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PasswordGuessingIT {
    private static final int PER_ADDRESS = 8;
    private static final int PER_USER = 12;
    private RunningServer node;

    @BeforeAll
    void start() throws Exception {
        node = RunningServer.start(
                TempDirs.make("password-guessing"),
                Map.of(
                        "auth.failed-logins-per-address",
                        Integer.toString(PER_ADDRESS),
                        "auth.failed-logins-per-user",
                        Integer.toString(PER_USER),
                        "auth.hash-concurrency",
                        "1",
                        "auth.hash-wait",
                        "300ms"));
        for (String user : new String[] {"frank", "grace", "heidi"}) {
            assertThat(Http.postJson(
                                    node.uri("/api/v2/users/"),
                                    "{\"username\":\"" + user + "\",\"password\":\"" + user + "-pw\"}",
                                    TestUsers.ADMIN_AUTH)
                            .statusCode())
                    .isEqualTo(201);
        }
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
    }

    private double metric(String prefix) {
        return MetricsText.value(node.uri("/metrics"), prefix);
    }

    @Test
    void guessing_from_one_address_gets_429_without_hashing_while_another_user_logs_in_from_elsewhere()
            throws Exception {
        double hashes = metric("auth_password_hashes_total");
        int unauthorized = 0;
        int throttled = 0;
        for (int i = 0; i < 40; i++) {
            // wrong passwords for a real name and for names that do not exist: both cost the same, both count
            String user = i % 2 == 0 ? "grace" : "nobody" + i;
            Reply r = get("127.0.0.1", "/api/v2/me/", TestUsers.basic(user, "guess-" + i));
            if (r.status() == 401) unauthorized++;
            if (r.status() == 429) {
                throttled++;
                assertThat(r.head()).containsIgnoringCase("Retry-After:");
            }
        }
        // the bucket refills one try every 60/PER_ADDRESS s while the test runs: a slow machine may earn one or two
        assertThat(unauthorized).isBetween(PER_ADDRESS, PER_ADDRESS + 2);
        assertThat(throttled).isEqualTo(40 - unauthorized);
        assertThat(metric("auth_password_hashes_total") - hashes)
                .as("hashes run for 40 guesses")
                .isEqualTo(unauthorized);
        assertThat(metric("auth_throttled_total{by=\"address\"")).isGreaterThanOrEqualTo(throttled);

        // meanwhile: another user from another address logs in (a fresh credential: it must be hashed)
        assertThat(get("127.0.0.2", "/api/v2/me/", TestUsers.basic("frank", "frank-pw"))
                        .status())
                .isEqualTo(200);
        // and a credential verified before passes even from the throttled address: no hash to run
        HttpResponse<String> admin = Http.get(node.uri("/api/v2/me/"), TestUsers.ADMIN_AUTH);
        assertThat(admin.statusCode()).isEqualTo(200);
    }

    @Test
    void guessing_one_users_password_from_many_addresses_is_throttled_per_username() throws Exception {
        double hashes = metric("auth_password_hashes_total");
        int throttled = 0;
        for (int i = 0; i < PER_USER + 6; i++) {
            Reply r = get("127.0.1." + (i + 1), "/api/v2/me/", TestUsers.basic("heidi", "guess-" + i));
            if (r.status() == 429) throttled++;
            else assertThat(r.status()).isEqualTo(401);
        }
        // one try back every 60/PER_USER s while the test runs: a slow machine may earn one or two
        assertThat(throttled).isBetween(4, 6);
        assertThat(metric("auth_password_hashes_total") - hashes).isEqualTo(PER_USER + 6 - throttled);
        assertThat(metric("auth_throttled_total{by=\"username\"")).isGreaterThanOrEqualTo(throttled);
    }

    @Test
    void guesses_from_many_addresses_at_once_hash_one_at_a_time_and_the_excess_is_turned_away() throws Exception {
        double hashes = metric("auth_password_hashes_total");
        ExecutorService clients = Executors.newFixedThreadPool(12);
        List<Future<Reply>> replies = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String address = "127.0.2." + (i + 1);
            String user = "nobody-at-once-" + i;
            replies.add(clients.submit(() -> get(address, "/api/v2/me/", TestUsers.basic(user, "guess"))));
        }
        int busy = 0;
        for (Future<Reply> f : replies) {
            Reply r = f.get(60, TimeUnit.SECONDS);
            if (r.status() == 503) {
                busy++;
                assertThat(r.head()).containsIgnoringCase("Retry-After:");
            } else {
                assertThat(r.status()).isEqualTo(401);
            }
        }
        clients.shutdown();
        // one hashing slot, 300 ms of patience, about 0.2 s or more per hash: most of twelve at once are turned away
        assertThat(busy).isGreaterThanOrEqualTo(6);
        assertThat(metric("auth_password_hashes_total") - hashes).isEqualTo(12 - busy);
        assertThat(metric("auth_failures_total{reason=\"busy\"")).isGreaterThanOrEqualTo(busy);
    }

    record Reply(int status, String head) {}

    /** One HTTP/1.1 GET from the given local address (the JDK 17 client cannot bind one). */
    private Reply get(String localAddress, String path, String authorization) throws IOException {
        int port = node.uri("/").getPort();
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(localAddress, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            s.setSoTimeout(30_000);
            String request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAuthorization: "
                    + authorization + "\r\nConnection: close\r\n\r\n";
            s.getOutputStream().write(request.getBytes(US_ASCII));
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), US_ASCII));
            String status = in.readLine();
            StringBuilder head = new StringBuilder(status).append('\n');
            for (String line = in.readLine(); line != null && !line.isEmpty(); line = in.readLine())
                head.append(line).append('\n');
            return new Reply(Integer.parseInt(status.split(" ")[1]), head.toString());
        }
    }
}
