package io.jobstream.testing;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Finds the programs the integration tests run (Chromium, chromedriver, redis-server, PostgreSQL's tools, psql,
 * ansible-playbook and its Python, ansible-runner, promtool, runuser). First an override {@code JOBSTREAM_TEST_<NAME>} (e.g.
 * {@code JOBSTREAM_TEST_CHROMIUM=/opt/chrome/chrome}), then {@code PATH} and the usual system directories; PostgreSQL's
 * server tools in {@code JOBSTREAM_TEST_PG_BINDIR}, {@code pg_config --bindir} or the newest
 * {@code /usr/lib/postgresql/<version>/bin}. A program that is not found fails the test with what to install: a test
 * that skips itself when something is missing stops testing without anyone noticing (issue 12.11).
 */
public final class Binaries {
    private static final List<Path> SYSTEM_DIRS = List.of(
            Path.of("/usr/local/bin"),
            Path.of("/usr/bin"),
            Path.of("/bin"),
            Path.of("/usr/local/sbin"),
            Path.of("/usr/sbin"),
            Path.of("/sbin"));

    private Binaries() {}

    public static Path chromium() {
        return require("chromium", "chromium", "chromium-browser", "google-chrome");
    }

    public static Path chromedriver() {
        return require("chromedriver", "chromium-driver");
    }

    public static Path redisServer() {
        return require("redis-server", "redis-server");
    }

    public static Path ansiblePlaybook() {
        return require("ansible-playbook", "ansible-core");
    }

    /** ansible-runner, which writes the artifact directories {@code ./jobstream import} reads. */
    public static Path ansibleRunner() {
        return require("ansible-runner", "python3-ansible-runner");
    }

    /** Debian's nginx, in front of a node as docs/deploy/nginx.conf puts it (ProxyIT). */
    public static Path nginx() {
        return require("nginx", "nginx");
    }

    /** systemd's unit checker, for docs/deploy/jobstream.service. */
    public static Path systemdAnalyze() {
        return require("systemd-analyze", "systemd");
    }

    /** For the self-signed certificate a test proxy serves. */
    public static Path openssl() {
        return require("openssl", "openssl");
    }

    /** Prometheus's rule checker, for docs/prometheus/jobstream-rules.yml. */
    public static Path promtool() {
        return require("promtool", "prometheus");
    }

    public static Path psql() {
        return require("psql", "postgresql-client");
    }

    /** runs a command as another user (util-linux). */
    public static Path runuser() {
        return require("runuser", "util-linux");
    }

    /**
     * The Python that ansible-playbook runs with (its {@code #!} line), where ansible's own modules are importable;
     * a {@code python3} found first on PATH (pyenv, a venv) may lack them.
     */
    public static Path ansiblePython() {
        Path ansible = ansiblePlaybook();
        try (Stream<String> lines = Files.lines(ansible, StandardCharsets.ISO_8859_1)) {
            String first = lines.findFirst().orElse("");
            if (first.startsWith("#!")) {
                String[] words = first.substring(2).trim().split("\\s+");
                String interpreter = words[0].endsWith("/env") && words.length > 1 ? words[1] : words[0];
                Path p = interpreter.contains("/")
                        ? Path.of(interpreter)
                        : onPath(interpreter).orElse(null);
                if (p != null && Files.isExecutable(p)) return p;
            }
        } catch (IOException | RuntimeException e) {
            // not a script (a wrapper binary): fall back to python3 below
        }
        return require("python3", "python3");
    }

    /** A PostgreSQL server tool ({@code pg_ctl}, {@code initdb}, {@code postgres}) of the newest installed version. */
    public static Path postgres(String tool) {
        List<Path> tried = new ArrayList<>();
        Optional<String> override = env("JOBSTREAM_TEST_PG_BINDIR");
        if (override.isPresent()) return executable(Path.of(override.get(), tool), "JOBSTREAM_TEST_PG_BINDIR");
        Optional<Path> pgConfig = onPath("pg_config");
        if (pgConfig.isPresent()) {
            String bindir = output(pgConfig.get().toString(), "--bindir");
            if (!bindir.isEmpty()) {
                Path p = Path.of(bindir, tool);
                if (Files.isExecutable(p)) return p;
                tried.add(p);
            }
        }
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                Optional<Path> newest = versions.filter(
                                v -> v.getFileName().toString().matches("\\d+(\\.\\d+)?"))
                        .map(v -> v.resolve("bin").resolve(tool))
                        .filter(Files::isExecutable)
                        .max(Comparator.comparingDouble(p -> Double.parseDouble(
                                p.getParent().getParent().getFileName().toString())));
                if (newest.isPresent()) return newest.get();
            } catch (IOException e) {
                tried.add(debian);
            }
        }
        tried.add(debian.resolve("<version>/bin").resolve(tool));
        return onPath(tool)
                .orElseThrow(() -> missing(tool, "postgresql", "JOBSTREAM_TEST_PG_BINDIR (a bin directory)", tried));
    }

    /** {@code name} (or one of {@code alternatives}) from the override, PATH or the system directories. */
    private static Path require(String name, String debianPackage, String... alternatives) {
        String variable = variable(name);
        Optional<String> override = env(variable);
        if (override.isPresent()) return executable(Path.of(override.get()), variable);
        for (String candidate :
                Stream.concat(Stream.of(name), Stream.of(alternatives)).toList()) {
            Optional<Path> p = onPath(candidate);
            if (p.isPresent()) return p.get();
        }
        throw missing(name, debianPackage, variable, List.of());
    }

    private static Optional<Path> onPath(String name) {
        List<Path> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(File.pathSeparator)) if (!d.isEmpty()) dirs.add(Path.of(d));
        }
        dirs.addAll(SYSTEM_DIRS); // PATH of a test JVM started by an IDE or cron may lack the sbin directories
        return dirs.stream()
                .map(d -> d.resolve(name))
                .filter(p -> Files.isRegularFile(p) && Files.isExecutable(p))
                .findFirst();
    }

    private static Path executable(Path p, String variable) {
        if (!Files.isExecutable(p))
            throw new AssertionError(variable + " names " + p + ", which is not an executable file");
        return p;
    }

    private static AssertionError missing(String name, String debianPackage, String variable, List<Path> tried) {
        return new AssertionError(name + " is needed by this test and was not found (searched " + variable + ", PATH, "
                + SYSTEM_DIRS + (tried.isEmpty() ? "" : ", " + tried) + "). Install it: apt-get install "
                + debianPackage
                + " (.ci/run installs every test dependency), or set " + variable + ". Tests never skip for a missing"
                + " program.");
    }

    static String variable(String name) {
        return "JOBSTREAM_TEST_" + name.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    private static Optional<String> env(String variable) {
        String v = System.getenv(variable);
        return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
    }

    private static String output(String... command) {
        try {
            Process p = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : "";
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }
}
