package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The hashing gate: a hash runs on a thread of its own below the caller's priority (read from /proc), at most {@code
 * slots} at once; a check that finds no free slot within the wait gets null; a failing hash fails its caller.
 */
class HashingGateTest {
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    static int niceOfThisThread() throws Exception {
        String tid = Files.readSymbolicLink(Path.of("/proc/thread-self"))
                .getFileName()
                .toString();
        String stat = Files.readString(Path.of("/proc/self/task", tid, "stat"), StandardCharsets.ISO_8859_1);
        return Integer.parseInt(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[16]);
    }

    @Test
    void the_hash_runs_below_the_callers_priority_and_answers() throws Exception {
        HashingGate gate = new HashingGate(1, Duration.ofSeconds(1), registry);
        int own = niceOfThisThread();
        int[] inHash = new int[1];
        String[] name = new String[1];
        Boolean answer = gate.run(() -> {
            try {
                inHash[0] = niceOfThisThread();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            name[0] = Thread.currentThread().getName();
            return true;
        });
        assertThat(answer).isTrue();
        assertThat(inHash[0]).isEqualTo(Math.min(19, own + 10));
        assertThat(name[0]).startsWith("auth-hash-");
        assertThat(niceOfThisThread()).isEqualTo(own);
        assertThat(registry.get("auth.password.hashes").counter().count()).isEqualTo(1);
    }

    @Test
    void a_check_that_finds_every_slot_taken_past_the_wait_gets_no_answer() throws Exception {
        HashingGate gate = new HashingGate(1, Duration.ofMillis(200), registry);
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Boolean> first = CompletableFuture.supplyAsync(() -> gate.run(() -> {
            inside.countDown();
            try {
                return release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return false;
            }
        }));
        assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(gate.run(() -> true)).as("no slot within 200 ms").isNull();
        release.countDown();
        assertThat(first.get(10, TimeUnit.SECONDS)).isTrue();
        assertThat(gate.run(() -> false)).as("the slot is free again").isFalse();
    }

    @Test
    void a_failing_hash_fails_its_caller_and_frees_the_slot() {
        HashingGate gate = new HashingGate(1, Duration.ofMillis(200), registry);
        assertThatThrownBy(() -> gate.run(() -> {
                    throw new IllegalArgumentException("bad stored hash (test)");
                }))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("bad stored hash");
        assertThat(gate.run(() -> true)).isTrue();
    }
}
