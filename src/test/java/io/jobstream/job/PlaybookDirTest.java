package io.jobstream.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlaybookDirTest {
    @TempDir
    Path root;

    Path dir;
    PlaybookDir playbooks;

    @BeforeEach
    void files() throws Exception {
        dir = Files.createDirectories(root.resolve("playbooks"));
        Files.writeString(dir.resolve("site.yml"), "- hosts: all\n");
        Files.createDirectories(dir.resolve("sub"));
        Files.writeString(dir.resolve("sub/inner.yml"), "- hosts: all\n");
        Files.writeString(root.resolve("secret.yml"), "- hosts: all\n");
        playbooks = new PlaybookDir(dir);
    }

    @Test
    void files_inside_the_directory_resolve() throws Exception {
        assertThat(playbooks.resolve("site.yml", "playbook"))
                .isEqualTo(dir.resolve("site.yml").toRealPath());
        assertThat(playbooks.resolve("sub/inner.yml", "playbook"))
                .isEqualTo(dir.resolve("sub/inner.yml").toRealPath());
        assertThat(playbooks.resolve("./site.yml", "playbook"))
                .isEqualTo(dir.resolve("site.yml").toRealPath());
    }

    @Test
    void dot_dot_absolute_paths_and_missing_files_are_refused_with_a_reason() {
        assertRefused("../secret.yml", "must not contain '..'");
        assertRefused("sub/../../secret.yml", "must not contain '..'");
        assertRefused("sub/../site.yml", "must not contain '..'");
        assertRefused(root.resolve("secret.yml").toString(), "not absolute");
        assertRefused("~/secret.yml", "not absolute");
        assertRefused("missing.yml", "is not a file");
        assertRefused("sub", "is not a file");
        assertRefused("", "is required");
    }

    @Test
    void a_symlink_leading_outside_the_directory_is_refused() throws Exception {
        Files.createSymbolicLink(dir.resolve("escape.yml"), root.resolve("secret.yml"));
        Files.createSymbolicLink(dir.resolve("outside"), root);
        assertRefused("escape.yml", "outside the playbook directory");
        assertRefused("outside/secret.yml", "outside the playbook directory");
    }

    @Test
    void a_symlink_that_stays_inside_is_allowed() throws Exception {
        Files.createSymbolicLink(dir.resolve("alias.yml"), dir.resolve("site.yml"));
        assertThat(playbooks.resolve("alias.yml", "playbook"))
                .isEqualTo(dir.resolve("site.yml").toRealPath());
    }

    private void assertRefused(String name, String reason) {
        assertThatThrownBy(() -> playbooks.resolve(name, "playbook"))
                .as(name)
                .isInstanceOfSatisfying(LaunchException.class, e -> {
                    assertThat(e.status).isEqualTo(400);
                    assertThat(e.getMessage()).contains(reason);
                });
    }
}
