package io.jobstream.auth;

import java.util.Optional;
import java.util.function.Consumer;

/**
 * First start: when there is no user at all, creates {@code admin}, a superuser, with the configured password
 * ({@code JOBSTREAM_ADMIN_PASSWORD}) or a random one that is announced exactly once (it is stored only hashed, so it
 * can never be shown again). Several cluster nodes may start on an empty database at once: the store creates the
 * user only if none exists, atomically, so one node wins and only that node announces a random password.
 */
public final class AdminBootstrap {
    public static final String ADMIN = "admin";

    private final AuthStore store;
    private final PasswordHasher hasher;
    private final BasicCache cache;

    public AdminBootstrap(AuthStore store, PasswordHasher hasher, BasicCache cache) {
        this.store = store;
        this.hasher = hasher;
        this.cache = cache;
    }

    /**
     * @param configured the admin password from the configuration, or empty for a random one
     * @param announce   receives the line that shows a random password (the log, in the server); not called when the
     *                   password was configured
     * @return the admin created now, if this call created it
     */
    public Optional<User> ensureAdmin(String configured, Consumer<String> announce) {
        if (store.userCount() > 0) return Optional.empty(); // the common case costs no password hash
        String password = configured.isEmpty() ? Secrets.newPassword() : configured;
        String hash = hasher.hash(password);
        Optional<User> created = store.createFirstAdmin(ADMIN, hash);
        if (created.isPresent()) {
            cache.put(ADMIN, password, hash); // the first Basic request need not hash again
            if (configured.isEmpty()) {
                announce.accept("admin password (shown once): " + password
                        + "  (user 'admin'; set JOBSTREAM_ADMIN_PASSWORD before the first start to choose it)");
            }
        }
        return created;
    }
}
