package io.jobstream.testing;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The credentials test nodes are started with: {@link RunningServer} and {@link NodeProcess} give the first-start
 * admin this password, and {@link Http}, {@link WsTestClient}, {@link StreamClient} and {@link HeadlessChromium#logIn}
 * use it unless a test says otherwise. HTTP Basic, so it works on every node of a test cluster alike (the node
 * remembers a verified credential, so the slow hash runs once per node).
 */
public final class TestUsers {
    public static final String ADMIN = "admin";
    public static final String ADMIN_PASSWORD = "test-admin-password";
    /** The {@code Authorization} header for the admin. */
    public static final String ADMIN_AUTH = basic(ADMIN, ADMIN_PASSWORD);

    private TestUsers() {}

    public static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
