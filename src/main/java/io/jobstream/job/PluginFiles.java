package io.jobstream.job;

import io.jobstream.config.PrivateFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The callback plugin travels inside the jar ({@code ./jobstream} runs the shaded jar, where no source tree is
 * around); on start it is written to {@code <data-dir>/ansible/callback_plugins/jobstream.py} so ansible-playbook
 * can load it from a directory. Written afresh on every start so an upgrade replaces it.
 */
public final class PluginFiles {
    static final String RESOURCE = "/ansible/callback_plugins/jobstream.py";

    private PluginFiles() {}

    /** Writes the plugin under the data dir; returns the directory for {@code ANSIBLE_CALLBACK_PLUGINS}. */
    public static Path extract(Path dataDir) {
        Path dir = dataDir.toAbsolutePath().normalize().resolve("ansible").resolve("callback_plugins");
        try (InputStream in = PluginFiles.class.getResourceAsStream(RESOURCE)) {
            if (in == null)
                throw new IllegalStateException("the callback plugin " + RESOURCE + " is missing from the jar");
            PrivateFiles.directory(dir);
            Path tmp = Files.createTempFile(dir, "jobstream", ".tmp");
            try (OutputStream out =
                    Files.newOutputStream(tmp)) { // into the 0600 file: a replacing copy gets the umask's mode
                in.transferTo(out);
            }
            Files.move(
                    tmp,
                    dir.resolve("jobstream.py"),
                    StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the callback plugin to " + dir, e);
        }
    }
}
