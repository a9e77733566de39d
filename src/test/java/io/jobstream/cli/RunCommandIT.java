package io.jobstream.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ./jobstream run} against a real node running real ansible-playbook. */
class RunCommandIT {
    @TempDir
    static Path dataDir;

    static RunningServer node;

    @BeforeAll
    static void start() {
        node = RunningServer.start(
                dataDir,
                Map.of("playbook-dir", Path.of("playbooks").toAbsolutePath().toString()));
    }

    @AfterAll
    static void stop() {
        if (node != null) node.close();
    }

    private record Result(int exit, String out, String err) {}

    private static Result run(String... args) {
        RunCommand command = new RunCommand();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        command.out = new PrintStream(out, true, StandardCharsets.UTF_8);
        command.err = new PrintStream(err, true, StandardCharsets.UTF_8);
        int exit = new CommandLine(command).execute(args);
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void run_prints_exactly_what_ansible_printed_and_exits_0_for_a_successful_job() throws Exception {
        Result r = run(
                "hello.yml",
                "-i",
                "inventory.ini",
                "--url",
                node.uri("/").toString(),
                "--user",
                "admin",
                "--password",
                TestUsers.ADMIN_PASSWORD);
        assertThat(r.exit()).as(r.err()).isZero();
        long id = Long.parseLong(r.err().replaceAll("(?s)^jobstream run: job (\\d+).*", "$1"));
        assertThat(r.out()).isEqualTo(Files.readString(node.jobOutput(id), StandardCharsets.UTF_8));
        assertThat(r.err()).contains("successful");
    }

    @Test
    void run_exits_2_for_a_failed_job_and_passes_extra_vars() {
        Result failed = run(
                "failing.yml",
                "--url",
                node.uri("/").toString(),
                "--user",
                "admin",
                "--password",
                TestUsers.ADMIN_PASSWORD);
        assertThat(failed.exit()).isEqualTo(2);
        assertThat(failed.out()).contains("Deliberate failure");
        Result vars = run(
                "slow.yml",
                "-e",
                "steps=1",
                "--url",
                node.uri("/").toString(),
                "--user",
                "admin",
                "--password",
                TestUsers.ADMIN_PASSWORD);
        assertThat(vars.exit()).as(vars.err()).isZero();
        assertThat(vars.out()).contains("step 1 of 1");
    }

    @Test
    void a_refused_launch_exits_4_with_the_reason() {
        Result r = run(
                "../pom.xml",
                "--url",
                node.uri("/").toString(),
                "--user",
                "admin",
                "--password",
                TestUsers.ADMIN_PASSWORD);
        assertThat(r.exit()).isEqualTo(4);
        assertThat(r.err()).contains("400").contains("..");
    }

    @Test
    void command_line_values_are_data_too_templates_run_nothing_and_file_patterns_are_refused(@TempDir Path out) {
        String url = node.uri("/").toString();
        Path marker = out.resolve("ran");
        Result templated = run(
                "slow.yml",
                "-e",
                "steps={{ lookup('pipe', 'touch " + marker + "; echo 1') }}",
                "-e",
                "deep={\"k\": [\"{{ lookup('pipe', 'touch " + marker + "') }}\"]}",
                "--name",
                "{{ lookup('pipe', 'touch " + marker + "') }}",
                "--url",
                url,
                "--user",
                "admin",
                "--password",
                TestUsers.ADMIN_PASSWORD);
        assertThat(templated.exit()).as(templated.err()).isIn(0, 2);
        assertThat(marker).doesNotExist();

        Result file = run(
                "hello.yml",
                "-l",
                "all,@/etc/passwd",
                "--url",
                url,
                "--user",
                "admin",
                "--password",
                TestUsers.ADMIN_PASSWORD);
        assertThat(file.exit()).isEqualTo(4);
        assertThat(file.err()).contains("400").contains("'@'");
        Result interpreter = run(
                "hello.yml",
                "-e",
                "ansible_python_interpreter=touch " + marker,
                "--url",
                url,
                "--user",
                "admin",
                "--password",
                TestUsers.ADMIN_PASSWORD);
        assertThat(interpreter.exit()).isEqualTo(4);
        assertThat(interpreter.err()).contains("reserved");
        assertThat(marker).doesNotExist();
    }
}
