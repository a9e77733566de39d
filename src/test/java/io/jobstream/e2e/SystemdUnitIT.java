package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.Binaries;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shipped systemd unit ({@code docs/deploy/jobstream.service}) as systemd reads it: no unknown keys or bad
 * values, an executable command, and hardened ({@code systemd-analyze security}: exposure in the "OK" band, below
 * 2.0 of 10).
 */
class SystemdUnitIT {
    private static final Path UNIT = Path.of("docs/deploy/jobstream.service");

    @Test
    void the_unit_verifies_without_a_warning() throws Exception {
        Result r = run(List.of(Binaries.systemdAnalyze().toString(), "verify", UNIT.toString()));
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output())
                .as("systemd-analyze verify says nothing about a good unit")
                .isBlank();
    }

    @Test
    void the_unit_is_hardened() throws Exception {
        // --threshold is on systemd's 0..100 scale: 20 is the "OK" band's top (2.0 as printed)
        Result r = run(List.of(
                Binaries.systemdAnalyze().toString(), "security", "--offline=true", "--threshold=20", UNIT.toString()));
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("Overall exposure level for jobstream.service");
    }

    private record Result(int exit, String output) {}

    private static Result run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }
}
