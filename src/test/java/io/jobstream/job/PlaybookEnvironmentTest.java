package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlaybookEnvironmentTest {
    @Test
    void only_the_allow_list_ansible_settings_and_the_operators_names_pass() {
        Map<String, String> node = Map.of(
                "PATH",
                "/usr/bin",
                "HOME",
                "/root",
                "LC_ALL",
                "C.UTF-8",
                "ANSIBLE_CONFIG",
                "/etc/ansible/prod.cfg",
                "JOBSTREAM_ADMIN_PASSWORD",
                "s",
                "JOBSTREAM_DATABASE_URL",
                "postgresql://u:p@h/db",
                "PGPASSWORD",
                "p",
                "SSH_AUTH_SOCK",
                "/tmp/a",
                "LD_PRELOAD",
                "/tmp/evil.so",
                "PYTHONPATH",
                "/tmp");
        assertThat(PlaybookEnvironment.allowed(node, List.of("SSH_AUTH_SOCK")).keySet())
                .containsExactlyInAnyOrder("PATH", "HOME", "LC_ALL", "ANSIBLE_CONFIG", "SSH_AUTH_SOCK");
        assertThat(PlaybookEnvironment.allowed(node, List.of()).keySet()).doesNotContain("SSH_AUTH_SOCK");
    }
}
