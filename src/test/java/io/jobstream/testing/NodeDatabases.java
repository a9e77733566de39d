package io.jobstream.testing;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The embedded PostgreSQL of a node ({@link RunningServer}) on a data dir, for a test to read or a second node. */
public final class NodeDatabases {
    private NodeDatabases() {}

    /** Its URL while the node on {@code dataDir} runs (the port is in the postmaster's pid file). */
    public static String url(Path dataDir) throws java.io.IOException {
        int port = Integer.parseInt(Files.readAllLines(dataDir.resolve("pg").resolve("postmaster.pid"))
                .get(3)
                .trim());
        String password = URLEncoder.encode(
                Files.readString(dataDir.resolve("database-password")).trim(), StandardCharsets.UTF_8);
        return "postgresql://jobstream:" + password + "@127.0.0.1:" + port + "/postgres";
    }
}
