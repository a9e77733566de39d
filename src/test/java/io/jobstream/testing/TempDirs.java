package io.jobstream.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Temporary directories that outlive one test (a node's data dir reused across restarts, a browser profile) and are
 * deleted when the test JVM exits. Each CI run used to leave ~25 of them in /tmp (68 MB for a run-model burst, a
 * PostgreSQL data dir for most), since a directory made with {@link Files#createTempDirectory} is never removed.
 */
public final class TempDirs {
    private static final List<Path> MADE = new CopyOnWriteArrayList<>();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(TempDirs::deleteAll, "temp-dirs"));
    }

    private TempDirs() {}

    /** A new directory under java.io.tmpdir named {@code prefix…}, deleted with its contents at JVM exit. */
    public static Path make(String prefix) throws IOException {
        Path dir = Files.createTempDirectory(prefix);
        MADE.add(dir);
        return dir;
    }

    private static void deleteAll() {
        for (Path dir : MADE) {
            try {
                Trees.delete(dir);
            } catch (IOException | RuntimeException e) {
                // a leftover temporary directory is not worth failing the run for
            }
        }
    }
}
