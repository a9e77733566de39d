package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** The authenticator against an in-memory store that can be made to fail, as a database outage would. */
class AuthenticatorTest {
    private static final User ADMIN = new User(1, "admin", true, "unused", Instant.EPOCH);
    private boolean storeDown;
    private boolean revoked;

    private final AuthStore store = (AuthStore) Proxy.newProxyInstance(AuthStore.class.getClassLoader(),
            new Class<?>[] {AuthStore.class}, (proxy, method, args) -> {
                if (storeDown) throw new IllegalStateException("connection refused");
                if (method.getName().equals("token")) {
                    return revoked ? Optional.empty()
                            : Optional.of(new Token(7, ADMIN, Token.API, null, "", Instant.EPOCH, null));
                }
                throw new UnsupportedOperationException(method.getName());
            });
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final Authenticator authenticator = new Authenticator(store, new PasswordHasher(),
            new BasicCache(Duration.ofMinutes(5), Clock.systemUTC()), Clock.systemUTC(), registry);

    @Test
    void during_a_store_outage_a_credential_seen_recently_still_works_and_an_unknown_one_gets_unavailable() {
        assertThat(authenticator.authenticate("Bearer known", null)).isInstanceOf(Authenticator.Result.Ok.class);
        storeDown = true;
        Authenticator.Result again = authenticator.authenticate("Bearer known", null);
        assertThat(again).isInstanceOf(Authenticator.Result.Ok.class);
        assertThat(((Authenticator.Result.Ok) again).principal().userId()).isEqualTo(1);
        assertThat(authenticator.authenticate("Bearer never-seen", null)).isInstanceOf(Authenticator.Result.Unavailable.class);
        assertThat(registry.counter("auth.failures", "reason", "unavailable").count()).isEqualTo(1);
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
}
