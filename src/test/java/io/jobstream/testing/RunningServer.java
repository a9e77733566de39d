package io.jobstream.testing;

import io.jobstream.config.Config;
import io.jobstream.config.ConfigLoader;
import io.jobstream.server.Server;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A real jobstream node for end-to-end tests: embedded PostgreSQL under a test directory, HTTP on a free port. */
public final class RunningServer implements AutoCloseable {
    /**
     * One private directory for the embedded PostgreSQL binaries of every test node, so that each test data dir does
     * not unpack its own 74 MB (a node's default is {@code <data-dir>/pg-bin}).
     */
    public static final Path PG_BINARIES = Path.of("target/embedded-pg").toAbsolutePath();

    private final Server server;
    private final Path dataDir;

    private RunningServer(Server server, Path dataDir) {
        this.server = server;
        this.dataDir = dataDir;
    }

    /**
     * Starts a node on {@code dataDir} with the defaults, port 0, the test admin password
     * ({@link TestUsers#ADMIN_PASSWORD}, unless the settings give {@code admin-password}) and the given settings.
     */
    public static RunningServer start(Path dataDir, Map<String, String> settings) {
        Map<String, String> flags = new HashMap<>(settings);
        flags.put("data-dir", dataDir.toString());
        flags.putIfAbsent("port", "0");
        flags.putIfAbsent("database.binaries-dir", PG_BINARIES.toString());
        flags.putIfAbsent("admin-password", TestUsers.ADMIN_PASSWORD);
        // a node that may launch runs the ansible-playbook the tests found, and one missing fails here, saying what to
        // install
        if (flags.containsKey("playbook-dir"))
            flags.putIfAbsent(
                    "jobs.ansible-playbook", Binaries.ansiblePlaybook().toString());
        Config config = ConfigLoader.load(Map.of(), flags);
        return new RunningServer(new Server(config, Clock.systemUTC()).start(), dataDir);
    }

    public static RunningServer start(Path dataDir) {
        return start(dataDir, Map.of());
    }

    public Path dataDir() {
        return dataDir;
    }

    public URI uri(String path) {
        return server.uri().resolve(path);
    }

    /** Where the launcher keeps job {@code id}'s terminal output (what ansible-playbook printed). */
    public Path jobOutput(long id) {
        return server.launcher().outputFile(id);
    }

    /** Every route the node serves, read from its router (method, path pattern, declared roles). */
    public List<Server.Route> routes() {
        return server.routes();
    }

    public URI websocketUri() {
        String scheme = server.tls() != null ? "wss" : "ws";
        return URI.create(scheme + "://127.0.0.1:" + server.port() + "/websocket/");
    }

    @Override
    public void close() {
        server.close();
    }
}
