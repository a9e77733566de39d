package io.jobstream.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.config.Config.TlsConfig;
import io.jobstream.event.Json;
import io.jobstream.testing.Events;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.TrustingClient;
import io.jobstream.testing.WsTestClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node with TLS serves https and wss on its one port, with a self-signed certificate or the operator's PEM files. */
class TlsIT {
    @TempDir
    Path dir;

    @Test
    void self_signed_node_serves_https_and_wss_on_one_port_and_streams_events() throws Exception {
        try (RunningServer node = RunningServer.start(dir.resolve("data"), Map.of("tls-self-signed", "true"))) {
            assertThat(node.uri("/").getScheme()).isEqualTo("https");
            // what a user does: trust the certificate file the node wrote under its data dir
            HttpClient client = TrustingClient.of(dir.resolve("data/tls/self-signed.crt"));
            HttpResponse<String> page = client.send(
                    HttpRequest.newBuilder(node.uri("/"))
                            .header("Authorization", TestUsers.ADMIN_AUTH)
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(page.statusCode()).isEqualTo(200);
            String cookie =
                    page.headers().firstValue("Set-Cookie").orElseThrow().split(";", 2)[0];

            WsTestClient ws = WsTestClient.connect(client, node.websocketUri(), cookie, true);
            assertThat(ws.next().get("accept").asBoolean()).isTrue();
            ws.send("{\"groups\":{\"job_events\":[\"7\"]},\"xrftoken\":\"" + cookie.split("=", 2)[1] + "\"}");
            assertThat(ws.next().has("groups_current")).isTrue();

            StringBuilder body = new StringBuilder();
            for (int c = 1; c <= 20; c++) body.append(Events.event(7, c)).append('\n');
            HttpResponse<String> ingest = client.send(
                    HttpRequest.newBuilder(node.uri("/api/v2/job_events/ingest/"))
                            .header("Authorization", TestUsers.ADMIN_AUTH)
                            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ingest.statusCode()).as(ingest.body()).isEqualTo(200);

            Set<Integer> counters = new HashSet<>();
            while (counters.size() < 20) {
                JsonNode m = ws.next();
                if (m.has("counter")) counters.add(m.get("counter").asInt());
            }
            assertThat(counters).hasSize(20);
        }
    }

    @Test
    void plain_http_to_a_tls_port_gets_no_page() throws Exception {
        try (RunningServer node = RunningServer.start(dir.resolve("data"), Map.of("tls-self-signed", "true"))) {
            URI plain = URI.create("http://127.0.0.1:" + node.uri("/").getPort() + "/api/v2/ping/");
            HttpClient client = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            // Jetty answers a plaintext request on a TLS port with 400 or closes; either way no content is served
            try {
                HttpResponse<String> r = client.send(
                        HttpRequest.newBuilder(plain)
                                .header("Authorization", TestUsers.ADMIN_AUTH)
                                .timeout(Duration.ofSeconds(10))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(400);
            } catch (IOException refused) {
                assertThat(refused).isNotNull();
            }
        }
    }

    @Test
    void self_signed_certificate_is_made_once_and_kept_across_restarts() throws Exception {
        Path data = dir.resolve("data");
        X509Certificate first;
        try (RunningServer node = RunningServer.start(data, Map.of("tls-self-signed", "true"))) {
            first = read(data.resolve("tls/self-signed.crt"));
            assertThat(first.getSubjectAlternativeNames())
                    .extracting(n -> n.get(1).toString())
                    .contains("localhost", "127.0.0.1");
        }
        try (RunningServer node = RunningServer.start(data, Map.of("tls-self-signed", "true"))) {
            assertThat(read(data.resolve("tls/self-signed.crt"))).isEqualTo(first);
            HttpResponse<String> ping = TrustingClient.of(data.resolve("tls/self-signed.crt"))
                    .send(
                            HttpRequest.newBuilder(node.uri("/api/v2/ping/"))
                                    .header("Authorization", TestUsers.ADMIN_AUTH)
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(Json.MAPPER.readTree(ping.body()).has("version")).isTrue();
        }
    }

    @Test
    void operators_pem_certificate_and_pkcs8_key_are_served() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        openssl(
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout",
                key.toString(),
                "-out",
                cert.toString());
        try (RunningServer node = RunningServer.start(
                dir.resolve("data"), Map.of("tls-cert", cert.toString(), "tls-key", key.toString()))) {
            HttpResponse<String> ping = TrustingClient.of(cert)
                    .send(
                            HttpRequest.newBuilder(node.uri("/api/v2/ping/"))
                                    .header("Authorization", TestUsers.ADMIN_AUTH)
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertThat(ping.statusCode()).isEqualTo(200);
        }
    }

    @Test
    void pkcs1_key_is_refused_with_the_command_that_converts_it() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        openssl(
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-keyout",
                key.toString(),
                "-out",
                cert.toString());
        Path rsa = dir.resolve("rsa.pem");
        openssl("rsa", "-in", key.toString(), "-traditional", "-out", rsa.toString());
        assertThatThrownBy(() -> Tls.load(new TlsConfig(Optional.of(cert), Optional.of(rsa), false), dir, "127.0.0.1"))
                .hasMessageContaining("RSA PRIVATE KEY")
                .hasMessageContaining("openssl pkcs8 -topk8");
    }

    private static void openssl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }

    private static X509Certificate read(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }
}
