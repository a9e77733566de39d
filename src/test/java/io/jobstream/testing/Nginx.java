package io.jobstream.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Debian's nginx as this test's own process (never the system service), serving the project's
 * {@code docs/deploy/nginx.conf} itself: the same file, with the upstream port, listen addresses and certificate
 * paths substituted, and a self-signed certificate for 127.0.0.1 made here with openssl. A test may edit the site
 * further (e.g. refuse websockets, as some corporate proxies do). Stopped by {@link #close}.
 */
public final class Nginx implements AutoCloseable {
    public static final Path SITE = Path.of("docs/deploy/nginx.conf");

    private final Process process;
    private final Path dir;
    public final int httpsPort;
    public final int httpPort;
    /** The self-signed certificate nginx serves (PEM), for clients to trust. */
    public final Path certificate;

    private Nginx(Process process, Path dir, int httpsPort, int httpPort, Path certificate) {
        this.process = process;
        this.dir = dir;
        this.httpsPort = httpsPort;
        this.httpPort = httpPort;
        this.certificate = certificate;
    }

    /** nginx with the shipped site in front of the node on {@code nodePort}. */
    public static Nginx start(Path dir, int nodePort) throws Exception {
        return start(dir, nodePort, UnaryOperator.identity());
    }

    /** As {@link #start(Path, int)}, the site edited by {@code edit} after the substitutions. */
    public static Nginx start(Path dir, int nodePort, UnaryOperator<String> edit) throws Exception {
        Files.createDirectories(dir);
        Path cert = dir.resolve("proxy.crt");
        Path key = dir.resolve("proxy.key");
        run(List.of(
                Binaries.openssl().toString(),
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout",
                key.toString(),
                "-out",
                cert.toString()));
        int https = freePort();
        int http = freePort();
        String site = site(Files.readString(SITE), nodePort, https, http, cert, key);
        Files.writeString(dir.resolve("site.conf"), edit.apply(site));
        Files.writeString(dir.resolve("nginx.conf"), main(dir));
        List<String> base = List.of(
                Binaries.nginx().toString(),
                "-p",
                dir.toString(),
                "-c",
                dir.resolve("nginx.conf").toString(),
                "-e",
                dir.resolve("error.log").toString());
        List<String> check = new java.util.ArrayList<>(base);
        check.add("-t");
        run(check);
        Process p = new ProcessBuilder(base)
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("nginx.out").toFile())
                .start();
        Nginx nginx = new Nginx(p, dir, https, http, cert);
        nginx.awaitListening();
        return nginx;
    }

    /** The shipped site with this test's ports and certificate; fails if the file no longer has what it replaces. */
    static String site(String shipped, int nodePort, int https, int http, Path cert, Path key) {
        String s = shipped;
        s = replace(s, "server 127.0.0.1:8052;", "server 127.0.0.1:" + nodePort + ";");
        s = replace(s, "listen 443 ssl;", "listen 127.0.0.1:" + https + " ssl;");
        s = replace(s, "listen [::]:443 ssl;", "");
        s = replace(s, "listen 80;", "listen 127.0.0.1:" + http + ";");
        s = replace(s, "listen [::]:80;", "");
        s = replace(s, "/etc/ssl/certs/jobstream.crt", cert.toString());
        s = replace(s, "/etc/ssl/private/jobstream.key", key.toString());
        return s;
    }

    private static String replace(String text, String what, String with) {
        if (!text.contains(what)) throw new AssertionError(SITE + " no longer contains '" + what + "'");
        return text.replace(what, with);
    }

    /** A minimal main configuration around the site: everything under this test's directory, in the foreground. */
    private static String main(Path dir) {
        return "daemon off;\n"
                + "worker_processes 1;\n"
                + "pid " + dir.resolve("nginx.pid") + ";\n"
                + "error_log " + dir.resolve("error.log") + " info;\n"
                + (isRoot() ? "user root;\n" : "") // workers read this test's private files
                + "events { worker_connections 1024; }\n"
                + "http {\n"
                + "  access_log " + dir.resolve("access.log") + ";\n"
                + "  client_body_temp_path " + dir.resolve("tmp-body") + ";\n"
                + "  proxy_temp_path " + dir.resolve("tmp-proxy") + ";\n"
                + "  fastcgi_temp_path " + dir.resolve("tmp-fastcgi") + ";\n"
                + "  uwsgi_temp_path " + dir.resolve("tmp-uwsgi") + ";\n"
                + "  scgi_temp_path " + dir.resolve("tmp-scgi") + ";\n"
                + "  include " + dir.resolve("site.conf") + ";\n"
                + "}\n";
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    public URI https(String path) {
        return URI.create("https://127.0.0.1:" + httpsPort + path);
    }

    public URI http(String path) {
        return URI.create("http://127.0.0.1:" + httpPort + path);
    }

    /** What nginx logged (errors and notices), for failure messages. */
    public String errorLog() {
        try {
            return Files.readString(dir.resolve("error.log"));
        } catch (IOException e) {
            return "(no error log: " + e + ")";
        }
    }

    private void awaitListening() throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) throw new AssertionError("nginx exited: " + errorLog());
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", httpsPort), 1000);
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("nginx not listening on " + httpsPort + " after 30 s: " + errorLog());
    }

    private static void run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed:\n" + out);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Stops nginx (SIGTERM: a fast shutdown) and waits for it. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(15, TimeUnit.SECONDS);
        }
    }
}
