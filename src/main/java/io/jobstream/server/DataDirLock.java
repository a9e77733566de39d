package io.jobstream.server;

import io.jobstream.config.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Set;

/**
 * One node per data dir: a lock on {@code <data-dir>/node.lock}, held from the first thing {@link Server#start} does
 * until the last thing {@link Server#close} does. Two nodes on one data dir would start two PostgreSQL servers on one
 * cluster directory, write each other's job files and cli-token, and stop each other's jobs; the second is refused
 * with the first's pid instead.
 *
 * <p>An OS lock (fcntl), not a file that exists: the kernel releases it when the holder dies however it dies (SIGKILL,
 * OOM), so a killed node never blocks the next start, and that start knows it holds the data dir alone before it
 * stops what the killed node left running (the embedded PostgreSQL). The file keeps the holder's pid and start time,
 * for the message a refused node prints and for an operator.
 */
public final class DataDirLock implements AutoCloseable {
    static final String FILE_NAME = "node.lock";
    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** Another node holds the data dir; the message names it. */
    public static final class InUse extends RuntimeException {
        InUse(String message) {
            super(message);
        }
    }

    /** Takes the data dir (created 0700 if missing), or throws {@link InUse} at once when another node holds it. */
    public static DataDirLock acquire(Path dataDir) {
        Path dir = PrivateFiles.ownDirectory(dataDir);
        Path file = dir.resolve(FILE_NAME);
        FileChannel channel = null;
        try {
            channel = FileChannel.open(
                    file,
                    Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException sameJvm) {
                lock = null; // a node in this JVM holds it (tests run several)
            }
            if (lock == null) {
                channel.close();
                throw new InUse("the data dir " + dir + " is in use by another jobstream node (" + holder(file)
                        + "): one node per data dir; stop that one or give this one its own --data-dir");
            }
            channel.truncate(0);
            String self = "pid " + ProcessHandle.current().pid() + ", since " + Instant.now() + "\n";
            channel.write(ByteBuffer.wrap(self.getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(false);
            return new DataDirLock(channel, lock);
        } catch (IOException e) {
            closeQuietly(channel);
            throw new UncheckedIOException("cannot lock the data dir " + dir + " (" + file + ")", e);
        }
    }

    /** What the holder wrote ("pid 123, since …"), or a plain "unknown pid" when the file says nothing readable. */
    private static String holder(Path file) {
        try {
            String text = Files.readString(file, StandardCharsets.UTF_8).strip();
            return text.startsWith("pid ") && text.length() < 200 ? text : "unknown pid";
        } catch (IOException | RuntimeException e) {
            return "unknown pid";
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel == null) return;
        try {
            channel.close();
        } catch (IOException ignored) {
            // already failing: the cause that matters is the one thrown
        }
    }

    /** Releases the data dir; the file stays (removing it would race a node that opened it to wait for the lock). */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel releases it too
        }
        closeQuietly(channel);
    }
}
