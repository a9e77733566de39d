package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.config.Config.JobsConfig;
import io.jobstream.event.CaptureLevel;
import io.jobstream.event.Redactor;
import io.jobstream.testing.LogCapture;
import io.jobstream.testing.ManualClock;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whose unfinished jobs a starting node finishes, and what it does to each ({@link LeftoverRuns}); the processes a
 * "killed node" left are real ones carrying a run's marker. The whole story with a killed node process and real
 * ansible-playbook is {@code LeftoverRunsIT}. Also the jobs of a node of a cluster lost ({@link LostNodeJobs}), which
 * are finished the same way, by another node.
 */
class LeftoverRunsTest {
    @TempDir
    Path dir;

    private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final List<LaunchedJobStore.Unfinished> unfinished = new ArrayList<>();
    private final Map<Long, String> finished = new TreeMap<>();
    private final List<Long> revoked = new CopyOnWriteArrayList<>();
    private final List<String> eofs = new CopyOnWriteArrayList<>();
    private final List<String> told = new CopyOnWriteArrayList<>();
    private final List<Process> started = new ArrayList<>();
    private PlaybookCommand playbook;
    private LeftoverRuns leftovers;
    private LaunchedJobStore store;
    /** The other nodes with a heartbeat now, and the time the lost-node check reads (ns). */
    private final java.util.Set<String> alive = new java.util.concurrent.CopyOnWriteArraySet<>();

    private long nanos;

    @BeforeEach
    void node() {
        JobsConfig config = new JobsConfig(dir.resolve("playbooks"), 2, 10, Duration.ofSeconds(5), "true");
        JobTokens tokens = JobTokens.of((id, capture) -> "token-" + id, revoked::add);
        playbook = new PlaybookCommand(
                config,
                dir.resolve("data"),
                () -> URI.create("http://127.0.0.1:1"),
                () -> null,
                tokens,
                Redactor.none());
        LaunchedJobStore store = new LaunchedJobStore() {
            @Override
            public long createLaunched(String name, String book, Long owner, Long team, CaptureLevel capture) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void started(long jobId) {}

            @Override
            public synchronized boolean finished(long jobId, String status, String explanation) {
                if (finished.containsKey(jobId)) return false; // final already: another node ended it
                finished.put(jobId, status + ": " + explanation);
                unfinished.removeIf(j -> j.id() == jobId);
                return true;
            }

            @Override
            public Events events(long jobId) {
                return new Events(null, 7);
            }

            @Override
            public List<Unfinished> unfinished() {
                return List.copyOf(unfinished);
            }

            @Override
            public Optional<Unfinished> unfinished(long jobId) {
                return unfinished.stream().filter(j -> j.id() == jobId).findFirst();
            }

            @Override
            public Optional<Unfinished> requestCancel(long jobId, String exceptNode) {
                throw new UnsupportedOperationException();
            }

            @Override
            public synchronized Optional<Unfinished> markLost(long jobId, String node) {
                for (int i = 0; i < unfinished.size(); i++) {
                    Unfinished j = unfinished.get(i);
                    if (j.id() == jobId && j.executionNode().equals(node)) {
                        unfinished.set(i, new Unfinished(j.id(), j.status(), node, true));
                        return Optional.of(j);
                    }
                }
                return Optional.empty();
            }

            @Override
            public List<Long> cancelRequested(Collection<Long> jobIds) {
                return List.of();
            }
        };
        this.store = store;
        EofWait eofWait = new EofWait(
                store,
                ndjson -> {
                    eofs.add(ndjson);
                    return CompletableFuture.completedFuture(true);
                },
                clock,
                d -> clock.advance(d),
                () -> false);
        leftovers = new LeftoverRuns(
                store,
                tokens,
                eofWait,
                playbook,
                (id, status, at) -> told.add(id + " " + status),
                clock,
                Duration.ofMillis(500));
    }

    @AfterEach
    void endStandIns() {
        started.forEach(Process::destroyForcibly);
    }

    @Test
    void with_a_shared_database_only_this_nodes_jobs_and_those_it_has_a_marker_of() throws Exception {
        unfinished.add(new LaunchedJobStore.Unfinished(41, "running", "me", false)); // a restart under the same name
        unfinished.add(new LaunchedJobStore.Unfinished(42, "pending", "other", false)); // another node's: not ours
        unfinished.add(
                new LaunchedJobStore.Unfinished(43, "running", "me-before", false)); // default name, changed: marker
        unfinished.add(new LaunchedJobStore.Unfinished(44, "pending", "me", false));
        Process left = leftProcess(43, "");

        List<Long> ended;
        try (LogCapture log = new LogCapture()) {
            ended = leftovers.end("me", false);
            assertThat(log.lines())
                    .anyMatch(
                            l -> l.contains("job 43: left running by a node that was killed: ending its 2 process(es)")
                                    && l.contains(Long.toString(left.pid()))) // the shell and its sleep
                    .anyMatch(l -> l.contains("3 launched job(s) left unfinished by an earlier node that was killed:"
                            + " marking them ended ([41, 43, 44])"));
        }
        assertThat(ended).containsExactly(41L, 43L, 44L);
        assertThat(left.waitFor(5, TimeUnit.SECONDS)).as("ended by SIGTERM").isTrue();
        assertThat(Files.exists(playbook.markerFile(43))).isFalse();
        assertThat(finished)
                .containsOnly(
                        Map.entry(41L, "error: the node running this job (me) stopped before it ended"),
                        Map.entry(43L, "error: the node running this job (me-before) stopped before it ended"),
                        Map.entry(44L, "error: the node it waited on (me) stopped before it started"));
        assertThat(revoked).containsExactlyInAnyOrder(41L, 43L, 44L);
        assertThat(eofs)
                .as("an EOF after the last stored event, for jobs that ran")
                .hasSize(2);
        assertThat(eofs.get(0)).contains("\"job_id\":41").contains("\"final_counter\":7");
        assertThat(eofs.get(1)).contains("\"job_id\":43");
        assertThat(told).containsExactly("41 error", "43 error", "44 error");
    }

    @Test
    void with_the_embedded_database_every_unfinished_launched_job_is_this_data_dirs() throws Exception {
        unfinished.add(new LaunchedJobStore.Unfinished(42, "pending", "other-name", false));
        unfinished.add(new LaunchedJobStore.Unfinished(45, "running", "", false));
        assertThat(leftovers.end("me", true)).containsExactly(42L, 45L);
        assertThat(finished)
                .containsEntry(42L, "error: the node it waited on (other-name) stopped before it started")
                .containsEntry(45L, "error: the node running this job (unknown) stopped before it ended");
    }

    @Test
    void a_job_whose_cancel_was_asked_for_ends_canceled_not_failed() throws Exception {
        unfinished.add(new LaunchedJobStore.Unfinished(48, "running", "me", true));
        unfinished.add(new LaunchedJobStore.Unfinished(49, "pending", "me", true));
        assertThat(leftovers.end("me", true)).containsExactly(48L, 49L);
        assertThat(finished)
                .containsEntry(48L, "canceled: canceled; the node running this job (me) stopped before it ended")
                .containsEntry(49L, "canceled: canceled; the node it waited on (me) stopped before it started");
        assertThat(told).containsExactly("48 canceled", "49 canceled");
    }

    @Test
    void a_process_that_ignores_sigterm_is_killed_after_the_grace() throws Exception {
        unfinished.add(new LaunchedJobStore.Unfinished(46, "running", "me", false));
        Process stubborn = leftProcess(46, "trap '' TERM; ");
        assertThat(leftovers.end("me", false)).containsExactly(46L);
        assertThat(stubborn.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(stubborn.exitValue()).as("SIGKILL").isEqualTo(128 + 9);
    }

    @Test
    void nothing_left_nothing_done_and_other_processes_untouched() throws Exception {
        Process unrelated = start(Map.of("JOBSTREAM_RUN", "someone-else"), "sleep 30");
        Files.createDirectories(playbook.jobsDir().resolve("47")); // a finished run's directory: no marker
        Files.createDirectories(playbook.jobsDir().resolve("not-a-job"));
        try (LogCapture log = new LogCapture()) {
            assertThat(leftovers.end("me", true)).isEmpty();
            assertThat(log.lines()).isEmpty();
        }
        assertThat(unrelated.isAlive()).isTrue();
        assertThat(finished).isEmpty();
        assertThat(revoked).isEmpty();
    }

    @Test
    void a_lost_nodes_jobs_are_ended_once_it_has_been_silent_for_the_whole_timeout() throws Exception {
        unfinished.add(new LaunchedJobStore.Unfinished(51, "running", "gone", false));
        unfinished.add(new LaunchedJobStore.Unfinished(52, "pending", "gone", false));
        unfinished.add(new LaunchedJobStore.Unfinished(53, "running", "gone", true)); // a user asked to cancel it
        unfinished.add(new LaunchedJobStore.Unfinished(54, "running", "busy", false)); // alive: untouched
        unfinished.add(new LaunchedJobStore.Unfinished(55, "running", "me", false)); // this node's own
        unfinished.add(new LaunchedJobStore.Unfinished(56, "running", "", false)); // no node named: nothing known
        alive.add("busy");
        LostNodeJobs lost = lostNodes(Duration.ofMinutes(5));

        lost.look(); // "gone" is silent from here
        nanos += Duration.ofMinutes(5).minusMillis(1).toNanos();
        lost.look();
        assertThat(finished).as("not silent for the whole timeout yet").isEmpty();
        nanos += Duration.ofMillis(1).toNanos();
        try (LogCapture log = new LogCapture()) {
            lost.look();
            assertThat(log.lines())
                    .anyMatch(l -> l.contains("node gone has had no heartbeat for 300 s (jobs.lost-node-timeout):"
                            + " ending its 3 launched job(s) here"));
        }
        assertThat(finished)
                .containsOnly(
                        Map.entry(
                                51L,
                                "error: the node running this job (gone) was lost (no heartbeat for 300 s)"
                                        + " before it ended"),
                        Map.entry(
                                52L,
                                "error: the node it waited on (gone) was lost (no heartbeat for 300 s)"
                                        + " before it started"),
                        Map.entry(
                                53L,
                                "canceled: canceled; the node running this job (gone) was lost (no heartbeat"
                                        + " for 300 s) before it ended"));
        assertThat(revoked).containsExactlyInAnyOrder(51L, 52L, 53L);
        assertThat(eofs).as("an EOF for the jobs that ran").hasSize(2);
        assertThat(told).containsExactly("51 error", "52 error", "53 canceled");

        nanos += Duration.ofHours(1).toNanos();
        lost.look();
        assertThat(finished).as("the living, this node and the unnamed, ever").hasSize(3);
    }

    @Test
    void a_heartbeat_in_between_starts_the_silence_over() throws Exception {
        unfinished.add(new LaunchedJobStore.Unfinished(61, "running", "flaky", false));
        LostNodeJobs lost = lostNodes(Duration.ofSeconds(60));
        lost.look();
        nanos += Duration.ofSeconds(50).toNanos();
        alive.add("flaky"); // back (a long GC pause, a Redis restart)
        lost.look();
        alive.remove("flaky");
        nanos += Duration.ofSeconds(20).toNanos();
        lost.look(); // silent again from here: 70 s after the first look, 0 s of this silence
        nanos += Duration.ofSeconds(59).toNanos();
        lost.look();
        assertThat(finished).isEmpty();
        nanos += Duration.ofSeconds(1).toNanos();
        lost.look();
        assertThat(finished).containsOnlyKeys(61L);
    }

    @Test
    void a_job_two_nodes_end_at_once_gets_one_status() throws Exception {
        unfinished.add(new LaunchedJobStore.Unfinished(71, "running", "gone", false));
        LaunchedJobStore.Unfinished job = store.markLost(71, "gone").orElseThrow();
        leftovers.finishLost(job, Duration.ofSeconds(60)); // here
        leftovers.finish(job, false); // and a cancel that reached another node, a moment later
        assertThat(finished)
                .containsOnly(Map.entry(
                        71L,
                        "error: the node running this job (gone) was lost (no"
                                + " heartbeat for 60 s) before it ended"));
        assertThat(told).as("one status_changed").containsExactly("71 error");
        assertThat(store.markLost(71, "gone"))
                .as("finished: not anyone's to end any more")
                .isEmpty();
    }

    @Test
    void with_the_embedded_database_or_a_zero_timeout_nothing_looks() {
        try (LostNodeJobs embedded = new LostNodeJobs(
                                store,
                                new JobLauncher.Peers("me", true, alive::contains),
                                leftovers,
                                Duration.ofMinutes(5),
                                () -> nanos)
                        .start();
                LostNodeJobs never = lostNodes(Duration.ZERO).start()) {
            assertThat(Thread.getAllStackTraces().keySet())
                    .extracting(Thread::getName)
                    .doesNotContain("job-lost-nodes");
        }
    }

    private LostNodeJobs lostNodes(Duration timeout) {
        return new LostNodeJobs(
                store, new JobLauncher.Peers("me", false, alive::contains), leftovers, timeout, () -> nanos);
    }

    /** A process of job {@code id} that outlived its node: its marker in the environment and in the job's directory. */
    private Process leftProcess(long id, String prelude) throws Exception {
        String marker = UUID.randomUUID().toString();
        Files.createDirectories(playbook.markerFile(id).getParent());
        Files.writeString(playbook.markerFile(id), marker);
        return start(Map.of(JobProcesses.MARKER_VARIABLE, marker), prelude + "sleep 30 & wait");
    }

    private Process start(Map<String, String> environment, String script) throws Exception {
        ProcessBuilder builder = new ProcessBuilder("sh", "-c", script);
        builder.environment().putAll(environment);
        Process p = builder.start();
        started.add(p);
        Thread.sleep(200); // the shell has read its trap
        return p;
    }
}
