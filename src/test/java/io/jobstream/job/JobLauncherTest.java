package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.config.Config.JobsConfig;
import io.jobstream.event.CaptureLevel;
import io.jobstream.event.Redactor;
import io.jobstream.testing.ManualClock;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's supervision of a run with a stand-in for ansible-playbook (a shell script: no Ansible, no plugin),
 * on fake time: the wait for a missing EOF takes no real time. The real ansible-playbook runs in {@code LaunchIT}.
 */
class JobLauncherTest {
    @TempDir
    Path dir;

    final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    final AtomicReference<Duration> slept = new AtomicReference<>(Duration.ZERO);
    final List<String> statuses = new CopyOnWriteArrayList<>();
    final List<String> ownEvents = new CopyOnWriteArrayList<>();
    final AtomicInteger ids = new AtomicInteger(40);
    volatile Integer storedFinalCounter;
    JobLauncher launcher;

    /** A launcher whose "ansible-playbook" is a script running {@code body}. */
    private JobLauncher launcher(String body) throws Exception {
        Path playbooks = Files.createDirectories(dir.resolve("playbooks"));
        Files.writeString(playbooks.resolve("site.yml"), "- hosts: all\n");
        Path script = dir.resolve("fake-ansible-playbook");
        Files.writeString(script, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
        JobsConfig config = new JobsConfig(playbooks, 2, 10, Duration.ofSeconds(5), script.toString());
        JobTokens tokens = new JobTokens() {
            @Override
            public String issue(long jobId, CaptureLevel capture) {
                return "token-" + jobId;
            }

            @Override
            public void revoke(long jobId) {}
        };
        PlaybookCommand command = new PlaybookCommand(
                config,
                dir.resolve("data"),
                () -> URI.create("http://127.0.0.1:1"),
                () -> null,
                tokens,
                Redactor.none());
        LaunchedJobStore store = new LaunchedJobStore() {
            @Override
            public long createLaunched(String name, String playbook, Long ownerId, Long teamId, CaptureLevel capture) {
                return ids.incrementAndGet();
            }

            @Override
            public void started(long jobId) {}

            @Override
            public boolean finished(long jobId, String status, String explanation) {
                return true;
            }

            @Override
            public Events events(long jobId) {
                return new Events(storedFinalCounter, 7);
            }

            @Override
            public List<Unfinished> unfinished() {
                return List.of();
            }

            @Override
            public Optional<Unfinished> unfinished(long jobId) {
                return Optional.empty();
            }

            @Override
            public Optional<Unfinished> requestCancel(long jobId, String exceptNode) {
                return Optional.empty();
            }

            @Override
            public Optional<Unfinished> markLost(long jobId, String node) {
                return Optional.empty();
            }

            @Override
            public List<Long> cancelRequested(Collection<Long> jobIds) {
                return List.of();
            }
        };
        // the worker thread alone moves the fake clock: it is the only one that waits on it
        launcher = new JobLauncher(
                config,
                command,
                store,
                (id, status, finished) -> statuses.add(id + " " + status),
                clock,
                d -> {
                    slept.accumulateAndGet(d, Duration::plus);
                    clock.advance(d);
                },
                tokens,
                ndjson -> {
                    ownEvents.add(ndjson);
                    return CompletableFuture.completedFuture(true);
                });
        return launcher.start();
    }

    @AfterEach
    void close() {
        if (launcher != null) launcher.close(Duration.ofSeconds(10));
    }

    private static LaunchRequest site() {
        return new LaunchRequest("site.yml", "", "{}", "", "", 0);
    }

    private void awaitStatus(long id, String status) {
        await().atMost(Duration.ofSeconds(20)).until(() -> statuses.contains(id + " " + status));
    }

    @Test
    void a_run_that_ends_without_its_plugins_eof_gets_one_written_with_its_last_stored_counter() throws Exception {
        long id = launcher("exit 0").launch(site());
        awaitStatus(id, "successful");
        assertThat(statuses).containsExactly(id + " pending", id + " running", id + " successful");
        assertThat(ownEvents)
                .singleElement()
                .asString()
                .contains("\"event\":\"EOF\"", "\"job_id\":" + id, "\"final_counter\":7");
        assertThat(slept.get())
                .as("waited for the EOF on the fake clock")
                .isGreaterThanOrEqualTo(Duration.ofSeconds(EofWait.EOF_WAIT_SECONDS));
    }

    @Test
    void a_run_whose_eof_is_stored_gets_none_from_the_node() throws Exception {
        storedFinalCounter = 7;
        long id = launcher("exit 0").launch(site());
        awaitStatus(id, "successful");
        assertThat(ownEvents).isEmpty();
        assertThat(slept.get()).isZero();
    }

    @Test
    void the_exit_code_decides_the_final_status() throws Exception {
        storedFinalCounter = 7;
        long id = launcher("exit 2").launch(site());
        awaitStatus(id, "failed");
        assertThat(statuses).containsExactly(id + " pending", id + " running", id + " failed");
    }

    @Test
    void a_canceled_run_is_stopped_and_ends_canceled() throws Exception {
        storedFinalCounter = 7;
        long id = launcher("exec sleep 60").launch(site()); // the job runs until it is canceled
        awaitStatus(id, "running");
        assertThat(launcher.cancel(id)).isTrue();
        awaitStatus(id, "canceled");
        assertThat(launcher.isActive(id)).isFalse();
    }
}
