package io.jobstream.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** Issue 12.11: the programs the integration tests need are found, and a missing one fails saying what to install. */
class BinariesTest {
    @Test
    void every_program_the_integration_tests_run_is_found() {
        assertThat(Binaries.chromium())
                .satisfies(p -> assertThat(Files.isExecutable(p)).isTrue());
        assertThat(Binaries.chromedriver())
                .satisfies(p -> assertThat(Files.isExecutable(p)).isTrue());
        assertThat(Binaries.redisServer())
                .satisfies(p -> assertThat(Files.isExecutable(p)).isTrue());
        assertThat(Binaries.ansiblePlaybook())
                .satisfies(p -> assertThat(Files.isExecutable(p)).isTrue());
        assertThat(Binaries.ansiblePython())
                .satisfies(p -> assertThat(Files.isExecutable(p)).isTrue());
        assertThat(Binaries.psql())
                .satisfies(p -> assertThat(Files.isExecutable(p)).isTrue());
        assertThat(Binaries.ansibleRunner())
                .satisfies(p -> assertThat(Files.isExecutable(p)).isTrue());
        assertThat(Binaries.promtool())
                .satisfies(p -> assertThat(Files.isExecutable(p)).isTrue());
        assertThat(Binaries.postgres("pg_ctl").getFileName()).hasToString("pg_ctl");
        assertThat(Binaries.postgres("initdb").getParent())
                .isEqualTo(Binaries.postgres("pg_ctl").getParent());
    }

    @Test
    void a_missing_program_fails_with_the_package_to_install_and_the_override() {
        assertThatThrownBy(() -> Binaries.postgres("no-such-postgres-tool"))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("apt-get install postgresql")
                .hasMessageContaining("JOBSTREAM_TEST_PG_BINDIR")
                .hasMessageContaining("never skip");
        assertThat(Binaries.variable("redis-server")).isEqualTo("JOBSTREAM_TEST_REDIS_SERVER");
    }
}
