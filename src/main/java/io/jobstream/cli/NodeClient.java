package io.jobstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * How the client tools ({@code lag}, {@code load}, {@code callback-stats}, …) reach a running node: its base URL,
 * and for an https node the certificate to trust ({@code --cacert}, e.g. the self-signed one under data-dir/tls) or
 * {@code --insecure}. A picocli mixin, so every tool spells these options the same way.
 */
final class NodeClient {
    @Option(
            names = "--url",
            paramLabel = "URL",
            defaultValue = "${env:JOBSTREAM_URL:-http://127.0.0.1:8052/}",
            description = "The node's base URL. Default: ${DEFAULT-VALUE} (env JOBSTREAM_URL).")
    URI url;

    @Option(
            names = "--cacert",
            paramLabel = "PEM",
            description = "Trust this certificate for an https node (e.g. DATA_DIR/tls/self-signed.crt).")
    Path cacert;

    @Option(names = "--insecure", description = "Accept any certificate from an https node (testing only).")
    boolean insecure;

    @Mixin
    Credentials credentials = new Credentials();

    private HttpClient http;

    HttpClient http() {
        if (http == null) {
            HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
            if (insecure) {
                // as curl -k: the JDK client also checks the host name, which a test certificate rarely matches
                System.setProperty("jdk.internal.httpclient.disableHostnameVerification", "true");
            }
            if (cacert != null || insecure) b.sslContext(sslContext());
            http = b.build();
        }
        return http;
    }

    URI resolve(String path) {
        String base = url.toString().endsWith("/") ? url.toString() : url + "/";
        return URI.create(base).resolve(path.startsWith("/") ? path.substring(1) : path);
    }

    /** A request to the node with this tool's credentials. */
    HttpRequest.Builder request(String path) {
        return credentials.request(resolve(path));
    }

    JsonNode getJson(String path) throws IOException, InterruptedException {
        HttpResponse<String> r = http().send(
                        request(path)
                                .timeout(Duration.ofSeconds(30))
                                .header("Accept", "application/json")
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200)
            throw new IOException("GET " + resolve(path) + " answered " + r.statusCode() + ": " + r.body());
        return Json.MAPPER.readTree(r.body());
    }

    /**
     * Opens the node's websocket as a browser would: first a page, for the {@code csrftoken} cookie that every
     * message must echo as {@code xrftoken}; returns the socket and that token.
     */
    Socket websocket(WebSocket.Listener listener) throws IOException, InterruptedException {
        HttpResponse<Void> page = http().send(
                        request("/").timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.discarding());
        if (page.statusCode() == 302 || page.statusCode() == 401) {
            throw new IOException(resolve("/") + " wants credentials: give JOBSTREAM_TOKEN or --token-file, --user with"
                    + " JOBSTREAM_PASSWORD or --password-file, or --data-dir of"
                    + " a local node (its cli-token)");
        }
        String token = page.headers().allValues("Set-Cookie").stream()
                .filter(c -> c.startsWith("csrftoken="))
                .map(c -> c.substring("csrftoken=".length()).split(";", 2)[0])
                .findFirst()
                .orElseThrow(() -> new IOException(resolve("/") + " set no csrftoken cookie"));
        URI base = resolve("/websocket/");
        URI ws = URI.create(base.toString().replaceFirst("^http", "ws"));
        WebSocket.Builder builder = http().newWebSocketBuilder().header("Cookie", "csrftoken=" + token);
        String auth = credentials.authorization(base);
        if (auth != null) builder.header("Authorization", auth);
        WebSocket socket = builder.connectTimeout(Duration.ofSeconds(5))
                .buildAsync(ws, listener)
                .orTimeout(10, TimeUnit.SECONDS)
                .join();
        return new Socket(socket, token);
    }

    record Socket(WebSocket socket, String xrftoken) {}

    private SSLContext sslContext() {
        try {
            TrustManager[] trust;
            if (insecure) {
                trust = new TrustManager[] {new AcceptAll()};
            } else {
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                try (InputStream in = Files.newInputStream(cacert)) {
                    int i = 0;
                    for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                        store.setCertificateEntry("ca" + i++, c);
                    }
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(store);
                trust = tmf.getTrustManagers();
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust, new SecureRandom());
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot use --cacert " + cacert + ": " + e.getMessage(), e);
        }
    }

    /** For --insecure only: the user asked to skip verification, as with curl -k. */
    private static final class AcceptAll implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
