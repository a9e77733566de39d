package io.jobstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.jobstream.testing.RunningServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Issue 12.6: the admin token a node leaves in {@code <data-dir>/cli-token} goes to that node only. A tool pointed at
 * another local listener (a tiny server here that records what it is sent) gets no credentials from it; credentials
 * the user names (a token or password file) go where the user says.
 */
class CliCredentialsIT {
    @TempDir
    Path dir;

    private HttpServer other;
    private final List<String> authorizations = Collections.synchronizedList(new ArrayList<>());
    private final List<String> paths = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void startOtherListener() throws Exception {
        other = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        other.createContext("/", exchange -> {
            paths.add(exchange.getRequestURI().getPath());
            authorizations.add(String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
            byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        other.start();
    }

    @AfterEach
    void stopOtherListener() {
        other.stop(0);
    }

    private String otherUrl() {
        return "http://127.0.0.1:" + other.getAddress().getPort() + "/";
    }

    private static int stats(String... args) {
        StatsCommand command = new StatsCommand();
        command.out = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        return new CommandLine(command).execute(args);
    }

    @Test
    void issue12_the_local_admin_token_goes_to_its_own_node_only() {
        try (RunningServer node = RunningServer.start(dir)) {
            assertThat(node.dataDir().resolve("cli-token")).exists();
            assertThat(stats(
                            "--url",
                            node.uri("/").toString(),
                            "--data-dir",
                            node.dataDir().toString()))
                    .isZero();

            stats("--url", otherUrl(), "--data-dir", node.dataDir().toString());
            stats("--url", otherUrl(), "--data-dir", node.dataDir().toString(), "--json");
            assertThat(paths).as("the other listener was asked").isNotEmpty();
            assertThat(authorizations).as("what it received").containsOnly("null");
        }
        // stopped: its record is gone, so not even its old port would get the token
        assertThat(dir.resolve("cli-token.origin")).doesNotExist();
    }

    @Test
    void named_credentials_come_from_files_and_go_where_the_user_says() throws Exception {
        Path tokenFile = Files.writeString(dir.resolve("token"), "file-secret\n");
        Path passwordFile = Files.writeString(dir.resolve("password"), "pw from file\n");
        stats("--url", otherUrl(), "--token-file", tokenFile.toString(), "--data-dir", dir.toString());
        stats(
                "--url",
                otherUrl(),
                "--user",
                "ops",
                "--password-file",
                passwordFile.toString(),
                "--data-dir",
                dir.toString());
        String basic =
                "Basic " + Base64.getEncoder().encodeToString("ops:pw from file".getBytes(StandardCharsets.UTF_8));
        assertThat(authorizations).contains("Bearer file-secret", basic).doesNotContain("null");
    }
}
