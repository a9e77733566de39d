package io.jobstream.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDirLockTest {
    @TempDir
    Path dir;

    @Test
    void a_held_data_dir_is_refused_naming_the_holder_and_free_again_once_released() throws Exception {
        Path data = dir.resolve("data");
        DataDirLock first = DataDirLock.acquire(data);
        Path file = data.resolve(DataDirLock.FILE_NAME);
        assertThat(Files.readString(file))
                .startsWith("pid " + ProcessHandle.current().pid() + ", since ");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data)))
                .isEqualTo("rwx------");

        assertThatThrownBy(() -> DataDirLock.acquire(data))
                .isInstanceOf(DataDirLock.InUse.class)
                .hasMessageContaining("in use by another jobstream node (pid "
                        + ProcessHandle.current().pid())
                .hasMessageContaining("--data-dir");

        first.close();
        try (DataDirLock again = DataDirLock.acquire(data)) {
            assertThat(Files.readString(file))
                    .startsWith("pid " + ProcessHandle.current().pid());
        }
    }

    @Test
    void a_lock_file_that_is_a_symlink_is_not_followed() throws Exception {
        Path data = Files.createDirectory(dir.resolve("data"));
        Path elsewhere = Files.writeString(dir.resolve("elsewhere"), "keep me");
        Files.createSymbolicLink(data.resolve(DataDirLock.FILE_NAME), elsewhere);
        assertThatThrownBy(() -> DataDirLock.acquire(data)).hasMessageContaining("cannot lock the data dir");
        assertThat(Files.readString(elsewhere)).isEqualTo("keep me");
    }

    @Test
    void garbage_in_the_lock_file_of_a_held_dir_is_not_echoed() throws Exception {
        Path data = dir.resolve("data");
        try (DataDirLock held = DataDirLock.acquire(data)) {
            Files.writeString(data.resolve(DataDirLock.FILE_NAME), "\u001b[2J" + "x".repeat(5000));
            assertThatThrownBy(() -> DataDirLock.acquire(data))
                    .isInstanceOf(DataDirLock.InUse.class)
                    .hasMessageContaining("(unknown pid)")
                    .hasMessageNotContaining("\u001b");
        }
    }
}
