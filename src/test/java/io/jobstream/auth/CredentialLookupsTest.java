package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Look-ups answered within the wait or given up on; bounded, and a late answer is reported. */
class CredentialLookupsTest {
    private static final Counter TIMEOUTS = new SimpleMeterRegistry().counter("auth.store.timeouts");

    @Test
    void an_answer_within_the_wait_is_returned_and_a_lookups_own_failure_is_rethrown_as_it_is() {
        AtomicInteger late = new AtomicInteger();
        try (CredentialLookups lookups =
                new CredentialLookups(Duration.ofSeconds(5), TIMEOUTS, late::incrementAndGet)) {
            assertThat(lookups.within("a user", () -> "alice")).isEqualTo("alice");
            assertThatThrownBy(() -> lookups.within("a user", () -> {
                        throw new IllegalStateException("connection refused");
                    }))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("connection refused");
            assertThat(late).hasValue(0);
        }
    }

    @Test
    void a_stalled_lookup_is_given_up_after_the_wait_and_its_late_answer_is_reported() throws Exception {
        CountDownLatch stalled = new CountDownLatch(1);
        CountDownLatch reported = new CountDownLatch(1);
        try (CredentialLookups lookups = new CredentialLookups(Duration.ofMillis(200), TIMEOUTS, reported::countDown)) {
            assertThatThrownBy(() -> lookups.within("a token", () -> {
                        await(stalled);
                        return "bob";
                    }))
                    .isInstanceOf(CredentialLookups.Slow.class)
                    .hasMessage("no answer within 200 ms about a token");
            assertThat(reported.getCount()).isEqualTo(1);
            stalled.countDown();
            assertThat(reported.await(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void with_every_thread_waiting_for_the_store_one_more_lookup_is_refused_at_once() throws Exception {
        CountDownLatch stalled = new CountDownLatch(1);
        ExecutorService callers = Executors.newFixedThreadPool(CredentialLookups.MAX_THREADS);
        try (CredentialLookups lookups = new CredentialLookups(Duration.ofSeconds(30), TIMEOUTS, () -> {})) {
            CountDownLatch started = new CountDownLatch(CredentialLookups.MAX_THREADS);
            List<Future<String>> waiting = new ArrayList<>();
            for (int i = 0; i < CredentialLookups.MAX_THREADS; i++) {
                waiting.add(callers.submit(() -> lookups.within("a user", () -> {
                    started.countDown();
                    await(stalled);
                    return "answered";
                })));
            }
            assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> lookups.within("a session", () -> "never asked"))
                    .isInstanceOf(CredentialLookups.Slow.class)
                    .hasMessageContaining("look-ups are waiting for the store already");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5)); // not the wait
            stalled.countDown();
            for (Future<String> f : waiting)
                assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo("answered");
        } finally {
            callers.shutdownNow();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
