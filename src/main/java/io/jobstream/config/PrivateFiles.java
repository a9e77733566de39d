package io.jobstream.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The one place that creates what the node keeps in its data dir: directories 0700, files 0600, for the node's user
 * only (job output, extra vars, the cli-token, database passwords, TLS keys). Modes are set explicitly, never left to
 * the umask, which belongs to whoever started the JVM. {@link #tighten} repairs a data dir written by an older
 * version (0755 directories, 0644 files) on start. Stateless and thread-safe.
 *
 * <p>Why it matters: another local user who can read {@code cli-token} is an admin of the node, and one who can read
 * job output reads every job. A private data dir also protects what lies below it from being swapped (symlinks,
 * pre-created files), so the node only checks the owner of the data dir itself, not of every parent.
 */
public final class PrivateFiles {
    private static final Set<PosixFilePermission> DIRECTORY = PosixFilePermissions.fromString("rwx------");
    private static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> GROUP_AND_OTHERS = EnumSet.of(
            PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_EXECUTE,
            PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_EXECUTE);

    private PrivateFiles() {}

    /** Creates {@code dir} and its missing parents as 0700, and makes {@code dir} itself 0700 if it is looser. */
    public static Path directory(Path dir) {
        try {
            Path absolute = dir.toAbsolutePath().normalize();
            Path parent = absolute.getParent();
            if (parent != null && !Files.isDirectory(parent)) directory(parent);
            try {
                Files.createDirectory(absolute, attribute(DIRECTORY));
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(absolute)) throw e;
            }
            Files.setPosixFilePermissions(absolute, DIRECTORY); // the umask may have taken bits away, never added them
            return absolute;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the private directory " + dir, e);
        }
    }

    /**
     * As {@link #directory}, for a directory whose contents the node trusts (the data dir, the PostgreSQL binaries):
     * one that exists must belong to this process's user, since its owner could change what the node reads or runs
     * there whatever its mode. A symlink counts as the directory it leads to. Returns the real path.
     */
    public static Path ownDirectory(Path dir) {
        Path absolute = dir.toAbsolutePath().normalize();
        try {
            if (Files.exists(absolute)) {
                absolute = absolute.toRealPath();
                int owner = (Integer) Files.getAttribute(absolute, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                int self = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid"); // the JVM's effective uid
                if (owner != self) {
                    throw new IllegalStateException(absolute + " belongs to uid " + owner + ", not to this node's user"
                            + " (uid " + self + "): another user could change what the node reads there; use a"
                            + " directory the node's user created");
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot check the owner of " + dir, e);
        }
        return directory(absolute);
    }

    /**
     * Creates {@code file} empty with mode 0600 (or empties an existing one and makes it 0600), for a process to write
     * into: {@code ProcessBuilder.redirectOutput} keeps the mode of a file that exists, but makes a new one 0666 minus
     * the umask. A symlink in its place is refused.
     */
    public static Path emptyFile(Path file) {
        try (FileChannel ignored = FileChannel.open(
                file,
                Set.of(
                        StandardOpenOption.CREATE,
                        StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING,
                        LinkOption.NOFOLLOW_LINKS),
                attribute(FILE))) {
            Files.setPosixFilePermissions(file, FILE);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the private file " + file, e);
        }
    }

    /** Writes {@code file} (mode 0600) through a temporary file in the same directory, so it is never seen half-written. */
    public static Path writeString(Path file, String content) {
        try {
            Path tmp = Files.createTempFile(
                    file.toAbsolutePath().getParent(), "." + file.getFileName(), ".tmp", attribute(FILE));
            try {
                Files.writeString(tmp, content, StandardCharsets.UTF_8);
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the private file " + file, e);
        }
    }

    /**
     * Deletes a directory and what it holds, never following a link out of it (a link is deleted, not its target);
     * nothing happens when it does not exist.
     */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) return;
        List<Path> paths;
        try (Stream<Path> walk = Files.walk(dir)) { // walk does not follow links
            paths = walk.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : paths) Files.deleteIfExists(p);
    }

    /**
     * Makes the data dir private: it must belong to this process's user (a data dir someone else created could be
     * changed under the node), it becomes 0700, and nothing below it keeps a group or other permission. Symlinks are
     * neither followed nor changed. Returns how many entries were tightened.
     */
    public static int tighten(Path dataDir) {
        Path dir = ownDirectory(dataDir);
        try {
            int[] fixed = {0};
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                    tightenOne(d, fixed);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                    if (attrs.isRegularFile() || attrs.isDirectory()) tightenOne(f, fixed);
                    return FileVisitResult.CONTINUE;
                }
            });
            return fixed[0];
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the data dir " + dataDir + " private", e);
        }
    }

    private static void tightenOne(Path p, int[] fixed) throws IOException {
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
        if (mode.stream().noneMatch(GROUP_AND_OTHERS::contains)) return;
        Set<PosixFilePermission> owner = EnumSet.copyOf(mode);
        owner.removeAll(GROUP_AND_OTHERS);
        Files.setPosixFilePermissions(p, owner);
        fixed[0]++;
    }

    private static FileAttribute<Set<PosixFilePermission>> attribute(Set<PosixFilePermission> mode) {
        return PosixFilePermissions.asFileAttribute(mode);
    }
}
