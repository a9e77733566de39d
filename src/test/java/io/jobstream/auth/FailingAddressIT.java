package io.jobstream.auth;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 13 (neighbours): a client address that keeps sending failed credentials is refused with 429 before its
 * credentials are looked up or hashed (auth.failed-requests-per-address), while credentials verified recently keep
 * working from that address and other addresses are not affected. Clients are told apart by loopback address
 * (127.0.0.x), as in {@link PasswordGuessingIT}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FailingAddressIT {
    private static final int PER_ADDRESS = 5;
    private RunningServer node;

    @BeforeAll
    void start() throws Exception {
        node = RunningServer.start(
                TempDirs.make("failing-address"),
                Map.of(
                        "auth.failed-requests-per-address",
                        Integer.toString(PER_ADDRESS),
                        // the password throttle out of the way: this limit is the one under test
                        "auth.failed-logins-per-address",
                        "1000",
                        "auth.failed-logins-per-user",
                        "1000"));
        assertThat(Http.postJson(
                                node.uri("/api/v2/users/"),
                                "{\"username\":\"ivan\",\"password\":\"ivan-pw\"}",
                                TestUsers.ADMIN_AUTH)
                        .statusCode())
                .isEqualTo(201);
    }

    @AfterAll
    void stop() {
        if (node != null) node.close();
    }

    @Test
    void an_address_over_its_failures_gets_429_before_any_hashing_and_recent_credentials_still_pass() throws Exception {
        String attacker = "127.0.0.7";
        assertThat(get(attacker, TestUsers.ADMIN_AUTH).status())
                .as("verified once, so remembered")
                .isEqualTo(200);
        for (int i = 0; i < PER_ADDRESS; i++) {
            assertThat(get(attacker, "Bearer not-a-token-" + i).status())
                    .as("failure " + i)
                    .isEqualTo(401);
        }
        double hashes = metric("auth_password_hashes_total");

        Reply refused = get(attacker, TestUsers.basic("ivan", "guess"));
        assertThat(refused.status()).as(refused.text()).isEqualTo(429);
        assertThat(refused.text()).contains("Retry-After: ").contains("Too many failed credentials from this address");
        assertThat(get(attacker, TestUsers.basic("ivan", "ivan-pw")).status())
                .as("even a right password not verified recently: it would cost a hash")
                .isEqualTo(429);
        assertThat(get(attacker, "Bearer another-guess").status()).isEqualTo(429);
        assertThat(metric("auth_password_hashes_total"))
                .as("nothing hashed for the refused")
                .isEqualTo(hashes);

        assertThat(get(attacker, TestUsers.ADMIN_AUTH).status())
                .as("recently verified: still served")
                .isEqualTo(200);
        assertThat(get(attacker, null).status())
                .as("no credentials: not limited, 401 as always")
                .isEqualTo(401);
        assertThat(get("127.0.0.8", TestUsers.basic("ivan", "ivan-pw")).status())
                .as("another address")
                .isEqualTo(200);
        assertThat(metric("auth_throttled_total{by=\"failing_address\"")).isGreaterThanOrEqualTo(3);
    }

    private double metric(String prefix) {
        return MetricsText.value(node.uri("/metrics"), prefix);
    }

    record Reply(int status, String text) {}

    /** One HTTP/1.1 GET of /api/v2/me/ from the given local address (the JDK 17 client cannot bind one). */
    private Reply get(String localAddress, String authorization) throws IOException {
        int port = node.uri("/").getPort();
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(localAddress, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            s.setSoTimeout(30_000);
            String request = "GET /api/v2/me/ HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n"
                    + (authorization == null ? "" : "Authorization: " + authorization + "\r\n")
                    + "Connection: close\r\n\r\n";
            s.getOutputStream().write(request.getBytes(US_ASCII));
            String text = new String(s.getInputStream().readAllBytes(), US_ASCII);
            return new Reply(Integer.parseInt(text.split(" ", 3)[1]), text);
        }
    }
}
