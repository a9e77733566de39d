package io.jobstream.ingest;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An ansible-runner artifact directory ({@code artifacts/<ident>/}; AWX execution environments and ansible-navigator
 * run ansible-runner underneath, though navigator's own {@code playbook-artifact.json} is another format, not read
 * here): {@code job_events/<counter>-<uuid>.json}, the run's {@code stdout}, and {@code status} and {@code rc} when
 * the run ended.
 *
 * <p>The input is untrusted, so {@link #open} checks the listing before any event is read: only regular files of the
 * directory itself (a symbolic link is refused, and files are opened without following one, so nothing outside the
 * directory is read), names of the runner's form, each file within the size a node accepts, counters 1..n each once
 * (a gap, a duplicate or a leftover {@code -partial.json} of an unfinished run is an error, since the node would wait
 * for the missing event for ever). {@link #read} then converts every event in counter order, checks it against its
 * file name, and checks that the events reproduce {@code stdout} byte for byte: what jobstream will show is what the
 * runner printed. Every problem is an {@link IllegalArgumentException} naming the file; nothing is skipped quietly.
 * Not thread-safe; one import at a time reads it.
 */
public final class RunnerArtifact {
    private static final Pattern EVENT_FILE = Pattern.compile("([0-9]{1,10})-([0-9A-Za-z-]{1,64})\\.json");
    /** Runner keys the ingest line drops ({@code runner_ident}, {@code pid}, …) may make a file this much larger. */
    private static final long FILE_SLACK = 64 * 1024;

    private static final int SMALL_FILE = 256;

    /** What an import reads at most; {@code maxEventBytes} is the node's {@code ingest.max-event-size}. */
    public record Limits(long maxEventBytes, int maxEvents, long maxStdoutBytes) {
        public Limits {
            if (maxEventBytes < 1024)
                throw new IllegalArgumentException("maxEventBytes must be >= 1024, was " + maxEventBytes);
            if (maxEvents < 1) throw new IllegalArgumentException("maxEvents must be >= 1, was " + maxEvents);
            if (maxStdoutBytes < 0)
                throw new IllegalArgumentException("maxStdoutBytes must be >= 0, was " + maxStdoutBytes);
        }
    }

    /** One event file: its counter and uuid as its name gives them. */
    public record EventFile(int counter, String uuid, String name) {}

    /** Receives the converted events in counter order. */
    public interface Sink {
        void accept(RunnerEvents.Line line) throws IOException, InterruptedException;
    }

    private final Path dir;
    private final Limits limits;
    private final List<EventFile> events;
    private final boolean hasStdout;
    private final String status;
    private final Integer rc;

    private RunnerArtifact(
            Path dir, Limits limits, List<EventFile> events, boolean hasStdout, String status, Integer rc) {
        this.dir = dir;
        this.limits = limits;
        this.events = events;
        this.hasStdout = hasStdout;
        this.status = status;
        this.rc = rc;
    }

    /** Lists and checks the directory; reads no event yet. */
    public static RunnerArtifact open(Path dir, Limits limits) throws IOException {
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException(dir + " is not a directory");
        Path real = dir.toRealPath();
        Path jobEvents = real.resolve("job_events");
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(jobEvents, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(dir + " has no job_events/: not an ansible-runner artifact directory"
                    + " (that is artifacts/<ident>/ under the runner's private data dir)");
        }
        if (attrs.isSymbolicLink() || !attrs.isDirectory()) {
            throw new IllegalArgumentException(dir + "/job_events is not a directory of its own (a link?)");
        }
        List<EventFile> events = list(jobEvents, limits);
        boolean hasStdout = regularFile(real, "stdout", limits.maxStdoutBytes()) != null;
        String status = smallText(real, "status");
        String rcText = smallText(real, "rc");
        Integer rc = null;
        if (rcText != null) {
            try {
                rc = Integer.valueOf(rcText);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(dir + "/rc is not a number: " + clip(rcText));
            }
        }
        if (status != null && !status.matches("[a-z_]{1,32}")) {
            throw new IllegalArgumentException(dir + "/status is not a runner status: " + clip(status));
        }
        return new RunnerArtifact(real, limits, events, hasStdout, status, rc);
    }

    private static List<EventFile> list(Path jobEvents, Limits limits) throws IOException {
        List<EventFile> files = new ArrayList<>();
        try (DirectoryStream<Path> listing = Files.newDirectoryStream(jobEvents)) {
            for (Path p : listing) {
                String name = p.getFileName().toString();
                String shown = "job_events/" + clip(name);
                if (name.endsWith("-partial.json")) {
                    throw new IllegalArgumentException(shown + ": the run has not finished (or was killed while writing"
                            + " events); import it once it has ended");
                }
                Matcher m = EVENT_FILE.matcher(name);
                if (!m.matches()) throw new IllegalArgumentException(shown + ": not an event file (COUNTER-UUID.json)");
                long counter = Long.parseLong(m.group(1));
                if (counter < 1 || counter > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException(
                            shown + ": counter out of range (1 to " + Integer.MAX_VALUE + ")");
                }
                regularFile(jobEvents, name, limits.maxEventBytes() + FILE_SLACK);
                if (files.size() == limits.maxEvents()) {
                    throw new IllegalArgumentException(
                            "job_events/ holds more than " + limits.maxEvents() + " events" + " (--max-events)");
                }
                files.add(new EventFile((int) counter, m.group(2), name));
            }
        }
        files.sort(Comparator.comparingInt(EventFile::counter));
        for (int i = 0; i < files.size(); i++) {
            EventFile f = files.get(i);
            if (i > 0 && files.get(i - 1).counter() == f.counter()) {
                throw new IllegalArgumentException("job_events/: counter " + f.counter() + " twice ("
                        + files.get(i - 1).name() + " and " + f.name() + ")");
            }
            if (f.counter() != i + 1) {
                throw new IllegalArgumentException("job_events/: counter " + (i + 1) + " is missing (the events are "
                        + "1.." + files.get(files.size() - 1).counter() + " with gaps): an incomplete artifact");
            }
        }
        if (files.isEmpty()) throw new IllegalArgumentException("job_events/ holds no events");
        return List.copyOf(files);
    }

    /** The size of {@code dir/name} if it is a regular file of at most {@code maxBytes}; null when absent. */
    private static Long regularFile(Path dir, String name, long maxBytes) throws IOException {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(dir.resolve(name), BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
        String shown = (dir.getFileName().toString().equals("job_events") ? "job_events/" : "") + clip(name);
        if (a.isSymbolicLink()) {
            throw new IllegalArgumentException(shown + " is a symbolic link: an artifact's files must be its own");
        }
        if (!a.isRegularFile()) throw new IllegalArgumentException(shown + " is not a regular file");
        if (a.size() > maxBytes) {
            throw new IllegalArgumentException(
                    shown + " is " + a.size() + " bytes, more than " + maxBytes + " allowed");
        }
        return a.size();
    }

    private static String smallText(Path dir, String name) throws IOException {
        if (regularFile(dir, name, SMALL_FILE) == null) return null;
        return new String(readBounded(dir.resolve(name), SMALL_FILE, name), StandardCharsets.UTF_8).trim();
    }

    /** Reads at most {@code max} bytes without following a link; a file that grew past that is an error. */
    private static byte[] readBounded(Path file, long max, String shown) throws IOException {
        try (InputStream in = Channels.newInputStream(
                Files.newByteChannel(file, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)))) {
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
            if (bytes.length > max) throw new IllegalArgumentException(shown + " is more than " + max + " bytes");
            return bytes;
        }
    }

    /**
     * Converts every event for job {@code jobId} in counter order and hands it to {@code sink}; checks each against
     * its file name and, when the artifact has {@code stdout}, that the events reproduce it exactly. A problem throws
     * at the event where it is found: the sink has then received the events before it and no others.
     */
    public void read(RunnerEvents converter, long jobId, Sink sink) throws IOException, InterruptedException {
        Path jobEvents = dir.resolve("job_events");
        try (InputStream stdout = hasStdout
                ? new BufferedInputStream(
                        Channels.newInputStream(Files.newByteChannel(
                                dir.resolve("stdout"), Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))),
                        1 << 16)
                : null) {
            long offset = 0;
            for (EventFile f : events) {
                String shown = "job_events/" + f.name();
                RunnerEvents.Line line = converter.convert(
                        shown,
                        readBounded(jobEvents.resolve(f.name()), limits.maxEventBytes() + FILE_SLACK, shown),
                        jobId);
                if (line.event().counter() != f.counter()
                        || !line.event().uuid().equals(f.uuid())) {
                    throw new IllegalArgumentException(
                            shown + ": holds counter " + line.event().counter() + " and uuid "
                                    + clip(line.event().uuid()) + ", not what its name says");
                }
                if (stdout != null && !line.event().stdout().isEmpty()) {
                    offset = expect(stdout, offset, (line.event().stdout() + "\n").getBytes(StandardCharsets.UTF_8), f);
                }
                sink.accept(line);
            }
            if (stdout != null && stdout.read() >= 0) {
                throw new IllegalArgumentException("stdout goes on past byte " + offset
                        + ", where the events' output ends:" + " output that no event holds");
            }
        }
    }

    private static long expect(InputStream stdout, long offset, byte[] want, EventFile f) throws IOException {
        byte[] have = stdout.readNBytes(want.length);
        for (int i = 0; i < want.length; i++) {
            if (i >= have.length || have[i] != want[i]) {
                throw new IllegalArgumentException(
                        "stdout differs at byte " + (offset + i) + " from the output of event " + f.counter() + " ("
                                + f.name() + "): the events do not reproduce the runner's stdout");
            }
        }
        return offset + want.length;
    }

    public List<EventFile> events() {
        return events;
    }

    /** The directory's name: the runner's ident (its {@code runner_ident}) when it is an artifacts/ subdirectory. */
    public String ident() {
        return dir.getFileName() == null ? dir.toString() : dir.getFileName().toString();
    }

    public Path dir() {
        return dir;
    }

    public boolean hasStdout() {
        return hasStdout;
    }

    /** The runner's final status ({@code successful}, {@code failed}, {@code canceled}, {@code timeout}), if it wrote one. */
    public Optional<String> status() {
        return Optional.ofNullable(status);
    }

    public Optional<Integer> rc() {
        return Optional.ofNullable(rc);
    }

    /** Names and values from the input, made safe to print: clipped, control characters (terminal escapes) as '?'. */
    private static String clip(String s) {
        String shown = s.length() > 80 ? s.substring(0, 80) + "..." : s;
        return shown.replaceAll("\\p{Cntrl}", "?");
    }
}
