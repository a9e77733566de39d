package io.jobstream.job;

import static io.jobstream.job.AnsibleJobs.awaitDone;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.testing.Http;
import io.jobstream.testing.MetricsText;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A launched job runs at {@code jobs.nice} (issue 13, fair share of the CPU): every process of its group, forks and
 * the commands they run included, has that nice and sits in a scheduler autogroup of its own with that nice, while
 * the node's autogroup keeps its own. Real ansible-playbook, read through {@code /proc}. The node runs in this JVM,
 * so the node's autogroup and nice are this process's.
 */
class JobPriorityIT {
    private static final int NICE = 7;

    @TempDir
    static Path dataDir;

    @TempDir
    static Path playbookDir;

    static RunningServer node;
    static String nodeAutogroupBefore;

    @BeforeAll
    static void start() throws Exception {
        // two hosts, both this machine: two forks at once, each running a command
        Files.writeString(playbookDir.resolve("inventory.ini"), """
                [local]
                one ansible_connection=local ansible_python_interpreter=/usr/bin/python3
                two ansible_connection=local ansible_python_interpreter=/usr/bin/python3
                """);
        Files.writeString(playbookDir.resolve("busy.yml"), """
                - name: Every fork runs a command
                  hosts: local
                  gather_facts: false
                  tasks:
                    - name: Wait
                      ansible.builtin.command: sleep 35191
                """);
        nodeAutogroupBefore = Files.readString(Path.of("/proc/self/autogroup")).strip();
        node = RunningServer.start(
                dataDir,
                Map.of(
                        "playbook-dir",
                        playbookDir.toString(),
                        "jobs.cancel-grace",
                        "3s",
                        "jobs.nice",
                        Integer.toString(NICE)));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
        sleeps().forEach(ProcessHandle::destroyForcibly); // what a failed test left behind
    }

    private static List<ProcessHandle> sleeps() {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().orElse("").matches("(.*/)?sleep 35191"))
                .toList();
    }

    /** Fields of /proc/<pid>/stat after "(comm)": index 0 is state, 2 the process group, 16 the nice. */
    private static String[] stat(long pid) throws IOException {
        String s = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.ISO_8859_1);
        return s.substring(s.lastIndexOf(')') + 2).split(" ");
    }

    /** The process's autogroup line, empty if the process is gone. */
    private static String autogroup(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "autogroup"))
                    .strip();
        } catch (IOException e) {
            return "";
        }
    }

    private static List<Long> group(long pgrp) {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("[0-9]+"))
                    .map(Long::parseLong)
                    .filter(pid -> {
                        try {
                            return Long.parseLong(stat(pid)[2]) == pgrp;
                        } catch (IOException | RuntimeException e) {
                            return false; // gone meanwhile
                        }
                    })
                    .toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void every_process_of_a_launched_job_and_its_autogroup_run_at_jobs_nice() throws Exception {
        int ownNice = Integer.parseInt(stat(ProcessHandle.current().pid())[16]);
        HttpResponse<String> r =
                Http.postJson(node.uri("/api/v2/jobs/"), "{\"playbook\": \"busy.yml\"}", TestUsers.ADMIN_AUTH);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        long id = Http.json(r.body()).path("id").asLong();
        await().atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> sleeps().size() == 2);

        long pgrp = Long.parseLong(stat(sleeps().get(0).pid())[2]);
        List<Long> members = group(pgrp);
        // ansible-playbook, a worker per host, the module each runs and the command it started
        assertThat(members).hasSizeGreaterThanOrEqualTo(5);
        // some sandboxes show the processes the node starts no autogroup: process nice alone counts there (the node
        // itself may be shown none while its jobs are, when it runs in the kernel's default autogroup)
        boolean autogroups = !autogroup(pgrp).isEmpty();
        String jobAutogroup = null;
        int checked = 0;
        for (long pid : members) {
            String autogroup = autogroup(pid);
            String[] stat;
            try {
                stat = stat(pid);
            } catch (IOException gone) {
                continue; // a short-lived fork ended between listing and reading
            }
            // exiting or a zombie: the kernel shows an exiting task no autogroup
            if ("Z".equals(stat[0]) || (autogroups && autogroup.isEmpty())) continue;
            checked++;
            assertThat(Integer.parseInt(stat[16]))
                    .as("process nice of pid %d", pid)
                    .isEqualTo(Math.min(19, ownNice + NICE));
            if (!autogroups) continue;
            String name = autogroup.substring(0, autogroup.indexOf(' '));
            assertThat(autogroup).as("pid %d", pid).endsWith(" nice " + NICE);
            if (jobAutogroup == null) jobAutogroup = name;
            assertThat(name).as("one autogroup for the whole job").isEqualTo(jobAutogroup);
        }
        assertThat(checked).as("live processes of the job checked").isGreaterThanOrEqualTo(5);
        if (autogroups && !nodeAutogroupBefore.isEmpty()) {
            assertThat(jobAutogroup).isNotEqualTo(nodeAutogroupBefore.substring(0, nodeAutogroupBefore.indexOf(' ')));
        }
        // the write went to the job's session, never the node's own
        assertThat(Files.readString(Path.of("/proc/self/autogroup")).strip()).isEqualTo(nodeAutogroupBefore);
        assertThat(MetricsText.sum(node.uri("/metrics"), "jobs_priority_failed_total"))
                .isZero();

        assertThat(Http.post(node.uri("/api/v2/jobs/" + id + "/cancel/"), "").statusCode())
                .isEqualTo(202);
        assertThat(awaitDone(node, id, Duration.ofSeconds(60)).path("status").asText())
                .isEqualTo("canceled");
    }
}
