package io.jobstream.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Which jobs an artifact directory was imported as: the file {@code .jobstream-import} in the artifact directory,
 * one line {@code JOB_ID NODE_URL} per node. This is what makes a second {@code import} without {@code --job} go to
 * the same job (where ingest's idempotence stores nothing twice) instead of a new one: the node cannot find a run by
 * its events' uuids cheaply, and a job id derived from the run would be guessable. An entry only names a candidate;
 * the import uses it when that job on the node holds this run's first event (see {@link ImportCommand}), so a marker
 * from another node, or an edited one, never sends events into a job of another run. The file is written as a new temporary file then renamed over the old one, so a link planted under
 * its name is replaced, never followed.
 */
final class ImportMarker {
    static final String NAME = ".jobstream-import";
    private static final int MAX_BYTES = 64 * 1024;

    private final Path dir;

    ImportMarker(Path dir) {
        this.dir = dir;
    }

    /** One recorded import: the job, and the URL the node had then (a hint only: a node's port or name may change). */
    record Entry(long job, String url) {}

    /** The recorded imports, those made through {@code url} first. */
    List<Entry> entries(String url) throws IOException {
        List<Entry> same = new ArrayList<>();
        List<Entry> other = new ArrayList<>();
        for (String line : lines()) {
            String[] parts = line.split(" ", 2);
            if (parts.length != 2 || !parts[0].matches("[0-9]{1,10}")) continue;
            Entry e = new Entry(Long.parseLong(parts[0]), parts[1]);
            (e.url().equals(url) ? same : other).add(e);
        }
        same.addAll(other);
        return same;
    }

    /** Records that the directory is imported as {@code job} on {@code url}, keeping the other nodes' lines. */
    void record(String url, long job) throws IOException {
        List<String> keep = new ArrayList<>();
        for (String line : lines()) {
            if (!line.endsWith(" " + url)) keep.add(line);
        }
        keep.add(job + " " + url);
        Path tmp = dir.resolve(NAME + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            Files.write(
                    tmp,
                    (String.join("\n", keep) + "\n").getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS);
            Files.move(tmp, dir.resolve(NAME), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AccessDeniedException e) {
            throw unwritable();
        } catch (FileSystemException e) {
            Files.deleteIfExists(tmp);
            throw new IOException("cannot record the import in " + dir.resolve(NAME) + ": " + e.getReason(), e);
        }
    }

    /** Fails now, before a job is allocated, when the marker could not be written later. */
    void checkWritable() {
        if (!Files.isWritable(dir)) throw unwritable();
    }

    private IllegalArgumentException unwritable() {
        return new IllegalArgumentException(dir + " is not writable, so jobstream cannot remember which job it was"
                + " imported as (" + NAME + "), and importing it again would make a second job: give --job N (an"
                + " existing job you may write, e.g. one from `POST /api/v2/tokens/ {\"kind\":\"ingest\"}`) instead");
    }

    private List<String> lines() throws IOException {
        Path file = dir.resolve(NAME);
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        if (!a.isRegularFile() || a.size() > MAX_BYTES) {
            throw new IllegalArgumentException(file + " is not a small regular file: remove it or give --job N");
        }
        try (InputStream in = Channels.newInputStream(
                Files.newByteChannel(file, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)))) {
            String text = new String(in.readNBytes(MAX_BYTES), StandardCharsets.UTF_8);
            return text.lines().filter(l -> !l.isBlank()).toList();
        }
    }
}
