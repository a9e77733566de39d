package io.jobstream.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The data dir's modes (issue 12.3), on the real file system. */
class PrivateFilesTest {
    @TempDir
    Path dir;

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void directories_are_created_0700_with_their_missing_parents_and_an_open_one_is_closed() throws IOException {
        Path job = PrivateFiles.directory(dir.resolve("data/jobs/7"));
        assertThat(mode(job)).isEqualTo("rwx------");
        assertThat(mode(dir.resolve("data/jobs"))).isEqualTo("rwx------");
        assertThat(mode(dir.resolve("data"))).isEqualTo("rwx------");
        Files.setPosixFilePermissions(job, PosixFilePermissions.fromString("rwxrwxrwx"));
        PrivateFiles.directory(job);
        assertThat(mode(job)).isEqualTo("rwx------");
    }

    @Test
    void files_are_written_0600_and_an_empty_file_for_a_process_replaces_a_looser_one() throws IOException {
        Path token = PrivateFiles.writeString(dir.resolve("cli-token"), "secret\n");
        assertThat(mode(token)).isEqualTo("rw-------");
        assertThat(Files.readString(token)).isEqualTo("secret\n");
        assertThat(dir.toFile().list()).containsExactly("cli-token"); // no temporary file left
        Path stdout = dir.resolve("stdout");
        Files.writeString(stdout, "old output");
        Files.setPosixFilePermissions(stdout, PosixFilePermissions.fromString("rw-rw-rw-"));
        PrivateFiles.emptyFile(stdout);
        assertThat(mode(stdout)).isEqualTo("rw-------");
        assertThat(Files.size(stdout)).isZero();
    }

    @Test
    void an_empty_file_is_never_made_through_a_symlink() throws IOException {
        Path target = Files.writeString(dir.resolve("elsewhere"), "keep");
        Path link = Files.createSymbolicLink(dir.resolve("stdout"), target);
        assertThatThrownBy(() -> PrivateFiles.emptyFile(link)).isInstanceOf(UncheckedIOException.class);
        assertThat(Files.readString(target)).isEqualTo("keep");
    }

    @Test
    void tighten_takes_group_and_other_bits_from_everything_in_an_older_data_dir_but_not_through_symlinks()
            throws IOException {
        Path data = Files.createDirectories(dir.resolve("data/jobs/3"));
        Path outside = Files.writeString(dir.resolve("outside"), "not ours to change");
        Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rw-r--r--"));
        Files.createSymbolicLink(data.resolve("link"), outside);
        Path stdout = Files.writeString(data.resolve("stdout"), "x");
        Path script = Files.writeString(dir.resolve("data/run.sh"), "#!/bin/sh\n");
        for (Path d : new Path[] {dir.resolve("data"), dir.resolve("data/jobs"), data}) {
            Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        Files.setPosixFilePermissions(stdout, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));

        assertThat(PrivateFiles.tighten(dir.resolve("data")))
                .as("jobs, jobs/3, stdout, run.sh (the data dir itself is closed first)")
                .isEqualTo(4);
        assertThat(mode(dir.resolve("data"))).isEqualTo("rwx------");
        assertThat(mode(dir.resolve("data/jobs"))).isEqualTo("rwx------");
        assertThat(mode(data)).isEqualTo("rwx------");
        assertThat(mode(stdout)).isEqualTo("rw-------");
        assertThat(mode(script)).as("the owner keeps what it had").isEqualTo("rwx------");
        assertThat(mode(outside)).as("a symlink's target outside").isEqualTo("rw-r--r--");
        assertThat(PrivateFiles.tighten(dir.resolve("data")))
                .as("nothing left to do")
                .isZero();
    }

    @Test
    void a_data_dir_or_binaries_dir_owned_by_another_user_is_refused() throws IOException {
        Path data = Files.createDirectory(dir.resolve("data"));
        UserPrincipal nobody =
                data.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("nobody");
        Files.setOwner(data, nobody); // the tests run as root (CI), as a node may
        assertThatThrownBy(() -> PrivateFiles.tighten(data))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("belongs to uid 65534");
        Path binaries = Files.createDirectory(dir.resolve("binaries"));
        Files.setOwner(binaries, nobody);
        assertThatThrownBy(() -> PrivateFiles.ownDirectory(binaries)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void a_deleted_tree_takes_links_with_it_but_never_what_they_point_to() throws IOException {
        Path outside = Files.writeString(dir.resolve("outside.txt"), "keep");
        Path outsideDir = Files.createDirectories(dir.resolve("outside-dir"));
        Files.writeString(outsideDir.resolve("kept.txt"), "keep");
        Path tmp = PrivateFiles.directory(dir.resolve("jobs/9/tmp"));
        Files.createDirectories(tmp.resolve("ansible_command_payload_x/ansible"));
        Files.writeString(tmp.resolve("ansible_command_payload_x/ansible/module.py"), "pass");
        Files.createSymbolicLink(tmp.resolve("to-file"), outside);
        Files.createSymbolicLink(tmp.resolve("to-dir"), outsideDir);
        PrivateFiles.deleteTree(tmp);
        assertThat(tmp).doesNotExist();
        assertThat(outside).hasContent("keep");
        assertThat(outsideDir.resolve("kept.txt")).hasContent("keep");
        PrivateFiles.deleteTree(tmp); // gone already: nothing to do
    }
}
