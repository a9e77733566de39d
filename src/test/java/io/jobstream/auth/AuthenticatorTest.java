package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The authenticator against an in-memory store that can be made to fail, as a database outage would. */
class AuthenticatorTest {
    private static final User ADMIN = new User(1, "admin", true, "unused", Instant.EPOCH);
    /** A cheap hash (1,000 rounds) for tests that check passwords; the rounds are read from the hash itself. */
    private static final User ALICE =
            new User(2, "alice", false, PasswordHasher.encode("right", "alicesalt0000000000000", 1_000), Instant.EPOCH);

    private volatile boolean storeDown;
    private volatile CountDownLatch stall;
    private volatile boolean revoked;
    private final java.util.concurrent.atomic.AtomicInteger lookups = new java.util.concurrent.atomic.AtomicInteger();

    private final AuthStore store = (AuthStore) Proxy.newProxyInstance(
            AuthStore.class.getClassLoader(), new Class<?>[] {AuthStore.class}, (proxy, method, args) -> {
                CountDownLatch stalled = stall;
                if (stalled != null) stalled.await(); // a database that answers nothing until it is let go
                if (storeDown) throw new IllegalStateException("connection refused");
                if (method.getName().equals("userByName")) {
                    lookups.incrementAndGet();
                    return args[0].equals(ALICE.username()) ? Optional.of(ALICE) : Optional.empty();
                }
                if (method.getName().equals("token")) {
                    return revoked
                            ? Optional.empty()
                            : Optional.of(new Token(7, ADMIN, Token.API, null, "", Instant.EPOCH, null));
                }
                throw new UnsupportedOperationException(method.getName());
            });
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Authenticator authenticator = new Authenticator(
            store,
            new PasswordHasher(),
            new BasicCache(Duration.ofMinutes(5), Clock.systemUTC()),
            Clock.systemUTC(),
            registry);

    @Test
    void during_a_store_outage_a_credential_seen_recently_still_works_and_an_unknown_one_gets_unavailable() {
        assertThat(authenticator.authenticate("Bearer known", null)).isInstanceOf(Authenticator.Result.Ok.class);
        storeDown = true;
        Authenticator.Result again = authenticator.authenticate("Bearer known", null);
        assertThat(again).isInstanceOf(Authenticator.Result.Ok.class);
        assertThat(((Authenticator.Result.Ok) again).principal().userId()).isEqualTo(1);
        assertThat(authenticator.authenticate("Bearer never-seen", null))
                .isInstanceOf(Authenticator.Result.Unavailable.class);
        assertThat(registry.counter("auth.failures", "reason", "unavailable").count())
                .isEqualTo(1);
    }

    @Test
    void while_the_store_stalls_a_request_waits_at_most_the_store_wait_and_the_late_answer_ends_the_back_off()
            throws Exception {
        assertThat(authenticator.authenticate("Bearer known", null)).isInstanceOf(Authenticator.Result.Ok.class);
        stall = new CountDownLatch(1);
        long t0 = System.nanoTime();
        // a credential seen recently: answered from memory once the store has had its wait
        assertThat(authenticator.authenticate("Bearer known", null)).isInstanceOf(Authenticator.Result.Ok.class);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Authenticator.STORE_WAIT);
        assertThat(registry.counter("auth.store.timeouts").count()).isEqualTo(1);
        // then the store counts as failed: nothing waits for it, an unseen credential is 503 at once
        assertThat(authenticator.authenticate("Bearer never-seen", null))
                .isInstanceOf(Authenticator.Result.Unavailable.class);
        assertThat(authenticator.authenticate("Bearer known", null)).isInstanceOf(Authenticator.Result.Ok.class);
        assertThat(registry.counter("auth.store.timeouts").count()).isEqualTo(1);
        // the stalled look-up answers: the store is asked again at once, not after the 10 s back-off
        CountDownLatch stalled = stall;
        stall = null;
        stalled.countDown();
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(5))
                .until(() -> authenticator.authenticate("Bearer never-seen", null) instanceof Authenticator.Result.Ok);
    }

    @Test
    void a_late_answer_does_not_end_the_back_off_of_a_store_that_failed_outright_since() throws Exception {
        io.jobstream.testing.ManualClock clock =
                new io.jobstream.testing.ManualClock(Instant.parse("2026-12-07T00:00:00Z"));
        Authenticator auth = new Authenticator(
                store, new PasswordHasher(), new BasicCache(Duration.ofMinutes(5), clock), clock, registry);
        CountDownLatch firstStalls = new CountDownLatch(1);
        stall = firstStalls;
        assertThat(auth.authenticate("Bearer a", null)).isInstanceOf(Authenticator.Result.Unavailable.class);
        stall = null; // only that first look-up hangs
        clock.advance(Duration.ofSeconds(11)); // its back-off over, the store now refuses outright
        storeDown = true;
        assertThat(auth.authenticate("Bearer b", null)).isInstanceOf(Authenticator.Result.Unavailable.class);
        storeDown = false;
        firstStalls.countDown(); // the first look-up answers late: that says nothing about the failure since
        Thread.sleep(200);
        assertThat(auth.authenticate("Bearer c", null)).isInstanceOf(Authenticator.Result.Unavailable.class);
        clock.advance(Duration.ofSeconds(11));
        assertThat(auth.authenticate("Bearer c", null)).isInstanceOf(Authenticator.Result.Ok.class);
    }

    @Test
    void a_login_while_the_store_fails_is_503_with_retry_after_not_an_error() {
        storeDown = true;
        Authenticator.Result r = authenticator.password("alice", "right", "10.0.0.1");
        assertThat(r).isInstanceOf(Authenticator.Result.Throttled.class);
        assertThat(((Authenticator.Result.Throttled) r).status()).isEqualTo(503);
        assertThat(((Authenticator.Result.Throttled) r).retryAfterSeconds()).isPositive();
        assertThat(registry.counter("auth.failures", "reason", "unavailable").count())
                .isEqualTo(1);
    }

    @Test
    void the_nodes_own_cli_token_works_while_the_store_stalls_even_unused_and_not_once_it_is_revoked() {
        authenticator.trustNodeToken("cli-secret\n");
        stall = new CountDownLatch(1);
        try {
            Authenticator.Result r = authenticator.authenticate("Bearer cli-secret", null);
            assertThat(r).isInstanceOf(Authenticator.Result.Ok.class);
            assertThat(((Authenticator.Result.Ok) r).principal().superuser()).isTrue();
            assertThat(authenticator.authenticate("Bearer other-secret", null))
                    .isInstanceOf(Authenticator.Result.Unavailable.class);
        } finally {
            stall.countDown();
            stall = null;
        }
    }

    @Test
    void a_revoked_node_token_is_trusted_no_more_when_the_store_later_fails() {
        authenticator.trustNodeToken("cli-secret");
        revoked = true;
        assertThat(authenticator.authenticate("Bearer cli-secret", null))
                .isInstanceOf(Authenticator.Result.Failed.class);
        storeDown = true;
        assertThat(authenticator.authenticate("Bearer cli-secret", null))
                .isInstanceOf(Authenticator.Result.Unavailable.class);
    }

    @Test
    void while_the_store_answers_a_revoked_token_fails_at_once_and_is_forgotten_for_outages_too() {
        assertThat(authenticator.authenticate("Bearer t", null)).isInstanceOf(Authenticator.Result.Ok.class);
        revoked = true;
        assertThat(authenticator.authenticate("Bearer t", null)).isInstanceOf(Authenticator.Result.Failed.class);
        storeDown = true;
        assertThat(authenticator.authenticate("Bearer t", null)).isInstanceOf(Authenticator.Result.Unavailable.class);
    }

    @Test
    void a_request_without_credentials_is_missing_even_when_the_store_is_down() {
        storeDown = true;
        assertThat(authenticator.authenticate(null, null)).isInstanceOf(Authenticator.Result.Missing.class);
    }

    @Test
    void many_concurrent_checks_of_one_right_password_share_one_hash_and_none_is_throttled() throws Exception {
        int clients = 16; // more than auth.failed-logins-per-user (10): each check used to take a try before hashing
        String basic = "Basic " + Base64.getEncoder().encodeToString("alice:right".getBytes(StandardCharsets.UTF_8));
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Authenticator.Result>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    return authenticator.authenticate(basic, null, "10.0.0." + results.size());
                }));
            }
            start.countDown();
            for (Future<Authenticator.Result> r : results) {
                assertThat(r.get(30, TimeUnit.SECONDS)).isInstanceOf(Authenticator.Result.Ok.class);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(registry.counter("auth.throttled", "by", "username").count()).isZero();
    }

    @Test
    void a_guess_while_its_name_is_throttled_is_refused_before_the_user_lookup_and_a_verified_password_still_passes() {
        assertThat(authenticator.authenticate(basic("alice", "right"), null, "10.0.0.1"))
                .isInstanceOf(Authenticator.Result.Ok.class);
        // auth.failed-logins-per-user (10 a minute) from as many addresses, so the per-address limits stay out of it
        for (int i = 0; i < 10; i++) {
            assertThat(authenticator.authenticate(basic("alice", "guess" + i), null, "10.0.1." + i))
                    .isInstanceOf(Authenticator.Result.Failed.class);
        }
        int before = lookups.get();
        for (int i = 0; i < 50; i++) {
            Authenticator.Result r = authenticator.authenticate(basic("alice", "more" + i), null, "10.0.2." + i);
            assertThat(r).isInstanceOf(Authenticator.Result.Throttled.class);
            assertThat(((Authenticator.Result.Throttled) r).status()).isEqualTo(429);
        }
        assertThat(lookups.get() - before)
                .as("user lookups for throttled guesses")
                .isZero();
        assertThat(registry.counter("auth.failures", "reason", "throttled").count())
                .isEqualTo(50);
        // the right password, verified before, still passes (looked up, checked against the stored hash)
        assertThat(authenticator.authenticate(basic("alice", "right"), null, "10.0.3.1"))
                .isInstanceOf(Authenticator.Result.Ok.class);
        assertThat(lookups.get() - before).isEqualTo(1);
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
