package io.jobstream.redis;

import io.jobstream.event.CommittedBatch;
import io.jobstream.event.JobChange;
import io.jobstream.event.JobEof;
import io.jobstream.event.JobEvent;
import io.jobstream.event.JobMessage;
import io.jobstream.event.StoredEvent;
import io.jobstream.event.Timestamps;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongPredicate;

/**
 * Decoded messages as stream entries (several in one batch entry, {@code ~1M}; entries of one message, {@code ~1E} and
 * {@code ~1F}, are what nodes of session 9 appended and are still read), and a committed batch as one relay message,
 * written and read without a JSON library: a tag, then each field as
 * {@code <length>:<chars>} (strings, never escaped) or {@code <digits>;} (numbers and flags). The JSON form it
 * replaces escaped and unescaped every quote of {@code event_data} (itself JSON text, a kilobyte or more in AWX's
 * events) and built a tree each way; with AWX's real event mix that was most of a node's CPU per event in cluster
 * mode. Lengths count UTF-16 chars, which Redis's UTF-8 round trip keeps (a lone surrogate becomes one '?').
 */
final class CompactMessage {
    /** Starts every compact entry; a JSON entry starts with '{'. The digit is the format's version. */
    static final String TAG = "~1";

    /** Stands for an absent (null) value where a string or number may be missing; neither starts with it. */
    private static final char NULL = '!';

    private CompactMessage() {}

    static boolean isCompact(String s) {
        return s.startsWith(TAG);
    }

    static String encode(JobMessage message) {
        StringBuilder b = new StringBuilder(message instanceof JobEvent e ? size(e) : 32).append(TAG);
        message(b, message);
        return b.toString();
    }

    /** One message's kind ('E' or 'F') and fields, as in a single entry and in each place of a batch. */
    private static void message(StringBuilder b, JobMessage message) {
        if (message instanceof JobEof eof) {
            b.append('F');
            num(b, eof.jobId());
            num(b, eof.finalCounter());
            return;
        }
        b.append('E');
        event(b, (JobEvent) message);
    }

    /** A stream entry holding several messages, and how many. */
    record Batch(String text, int count) {}

    /**
     * Messages as batch entries ({@code ~1M<count>;} then each message's kind and fields), in order: a new entry
     * starts after {@code maxMessages} messages or once an entry's text reaches {@code maxChars} (an entry may pass
     * it by its last message, so that one big message always fits somewhere).
     */
    static List<Batch> encodeBatchEntries(List<? extends JobMessage> messages, int maxMessages, int maxChars) {
        List<Batch> out = new ArrayList<>();
        long estimate = 0;
        for (JobMessage m : messages) estimate += m instanceof JobEvent e ? size(e) : 32;
        StringBuilder body = new StringBuilder((int) Math.min(estimate, maxChars + 1024L));
        int n = 0;
        for (JobMessage m : messages) {
            message(body, m);
            if (++n == maxMessages || body.length() >= maxChars) {
                out.add(batch(body, n));
                body.setLength(0);
                n = 0;
            }
        }
        if (n > 0) out.add(batch(body, n));
        return out;
    }

    private static Batch batch(StringBuilder body, int n) {
        String text = new StringBuilder(body.length() + 16)
                .append(TAG)
                .append('M')
                .append(n)
                .append(';')
                .append(body)
                .toString();
        return new Batch(text, n);
    }

    static boolean isBatchEntry(String s) {
        return s.startsWith(TAG) && s.length() > TAG.length() && s.charAt(TAG.length()) == 'M';
    }

    /** How many messages a batch entry says it holds, read without decoding them; 0 for any other entry. */
    static int batchEntryCount(String s) {
        if (!isBatchEntry(s)) return 0;
        try {
            return new Reader(s).count();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** @throws IllegalArgumentException when {@code s} is not a whole batch entry of exactly the count it says */
    static List<JobMessage> decodeBatchEntry(String s) {
        Reader r = new Reader(s);
        try {
            if (r.kind() != 'M') throw new IllegalArgumentException("not a batch entry");
            int n = r.count();
            if (n == 0) throw new IllegalArgumentException("an empty batch entry");
            List<JobMessage> messages = new ArrayList<>(n);
            for (int i = 0; i < n; i++) messages.add(r.message(r.next()));
            r.end();
            return messages;
        } catch (IndexOutOfBoundsException | NumberFormatException e) {
            throw new IllegalArgumentException("not a whole jobstream batch entry: " + e.getMessage(), e);
        }
    }

    /** @throws IllegalArgumentException when {@code s} is not a whole compact message */
    static JobMessage decode(String s) {
        Reader r = new Reader(s);
        try {
            JobMessage m = r.message(r.kind());
            r.end();
            return m;
        } catch (IndexOutOfBoundsException | NumberFormatException e) {
            throw new IllegalArgumentException("not a whole jobstream cluster message: " + e.getMessage(), e);
        }
    }

    /** A committed batch for the relay, with the node it comes from. */
    static String encode(String origin, CommittedBatch batch) {
        int size = 64;
        for (StoredEvent s : batch.events()) size += 40 + size(s.event());
        StringBuilder b = new StringBuilder(size).append(TAG).append('B');
        str(b, origin);
        num(b, Timestamps.micros(batch.committed()));
        num(b, batch.events().size());
        for (StoredEvent s : batch.events()) {
            num(b, s.id());
            num(b, Timestamps.micros(s.modified()));
            event(b, s.event());
        }
        num(b, batch.jobChanges().size());
        for (JobChange c : batch.jobChanges()) {
            num(b, c.jobId());
            if (c.status() == null) b.append(NULL);
            else str(b, c.status());
            if (c.finalCounter() == null) b.append(NULL);
            else num(b, c.finalCounter());
            num(b, c.eventsFinished() ? 1 : 0);
        }
        return b.toString();
    }

    /**
     * How every compact relay message from {@code origin} starts, as UTF-8 bytes (what Redis delivers): the tag, then
     * the origin as its first field. A message from another origin never starts with it (its length or chars differ),
     * so a node recognises its own messages without decoding them.
     */
    static byte[] originPrefix(String origin) {
        StringBuilder b = new StringBuilder(TAG).append('B');
        str(b, origin);
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The node a compact relay message comes from, read without decoding the rest. */
    static String origin(String s) {
        Reader r = new Reader(s);
        try {
            if (r.kind() != 'B') throw new IllegalArgumentException("not a relayed batch");
            return r.str();
        } catch (IndexOutOfBoundsException | NumberFormatException e) {
            throw new IllegalArgumentException("not a whole jobstream relay message: " + e.getMessage(), e);
        }
    }

    /** @throws IllegalArgumentException when {@code s} is not a whole compact batch */
    static CommittedBatch decodeBatch(String s) {
        return decodeBatch(s, job -> true).wanted();
    }

    /**
     * A relayed batch whose events of jobs not {@code wanted} were read as their times only: what a node needs of an
     * event nobody on it watches is its hops, not its text.
     */
    record Relayed(CommittedBatch wanted, Hops skipped) {}

    /** The created and received times (epoch µs) of the events a decode skipped, in batch order. */
    record Hops(long[] created, long[] received, int size) {}

    /**
     * As {@link #decodeBatch(String)}, but an event of a job not {@code wanted} becomes only its created and received
     * times; the whole message is still checked.
     *
     * @throws IllegalArgumentException when {@code s} is not a whole compact batch
     */
    static Relayed decodeBatch(String s, LongPredicate wanted) {
        Reader r = new Reader(s);
        try {
            if (r.kind() != 'B') throw new IllegalArgumentException("not a relayed batch");
            r.str(); // origin
            Instant committed = Timestamps.ofMicros(r.num());
            int n = r.count();
            List<StoredEvent> events = new ArrayList<>(n);
            long[] created = new long[0];
            long[] received = new long[0];
            int skipped = 0;
            long lastJob = Long.MIN_VALUE;
            boolean want = true;
            for (int i = 0; i < n; i++) {
                long id = r.num();
                long modified = r.num();
                long job = r.peekNum();
                if (job != lastJob) { // batches are mostly one job: ask once per run
                    lastJob = job;
                    want = wanted.test(job);
                }
                if (want) {
                    events.add(new StoredEvent(id, r.event(), Timestamps.ofMicros(modified)));
                    continue;
                }
                if (skipped == created.length) {
                    created = Arrays.copyOf(created, Math.max(16, 2 * skipped));
                    received = Arrays.copyOf(received, created.length);
                }
                long[] times = r.eventTimes();
                created[skipped] = times[0];
                received[skipped] = times[1];
                skipped++;
            }
            int c = r.count();
            List<JobChange> changes = new ArrayList<>(c);
            for (int i = 0; i < c; i++) {
                long job = r.num();
                String status = r.absent() ? null : r.str();
                Integer finalCounter = r.absent() ? null : (int) r.num();
                changes.add(new JobChange(job, status, finalCounter, r.num() != 0));
            }
            r.end();
            return new Relayed(new CommittedBatch(events, changes, committed), new Hops(created, received, skipped));
        } catch (IndexOutOfBoundsException | NumberFormatException e) {
            throw new IllegalArgumentException("not a whole jobstream relay message: " + e.getMessage(), e);
        }
    }

    private static int size(JobEvent e) {
        return 160
                + e.eventData().length()
                + e.stdout().length()
                + e.task().length()
                + e.play().length();
    }

    private static void event(StringBuilder b, JobEvent e) {
        num(b, e.jobId());
        num(b, e.counter());
        str(b, e.uuid());
        str(b, e.parentUuid());
        str(b, e.event());
        str(b, e.eventData());
        str(b, e.stdout());
        num(b, e.startLine());
        num(b, e.endLine());
        num(b, e.verbosity());
        str(b, e.hostName());
        str(b, e.playbook());
        str(b, e.play());
        str(b, e.role());
        str(b, e.task());
        num(b, e.failed() ? 1 : 0);
        num(b, e.changed() ? 1 : 0);
        num(b, Timestamps.micros(e.created()));
        num(b, e.createdFilled() ? 1 : 0);
        num(b, Timestamps.micros(e.received()));
    }

    private static void num(StringBuilder b, long v) {
        b.append(v).append(';');
    }

    private static void str(StringBuilder b, String s) {
        b.append(s.length()).append(':').append(s);
    }

    private static final class Reader {
        private final String s;
        private int at;

        Reader(String s) {
            this.s = s;
            this.at = TAG.length() + 1;
        }

        char kind() {
            if (!s.startsWith(TAG) || s.length() <= TAG.length())
                throw new IllegalArgumentException("not a compact message");
            return s.charAt(TAG.length());
        }

        void end() {
            if (at != s.length()) throw new IllegalArgumentException("data after the message");
        }

        /** A count of what follows, each at least a few chars: a count the rest cannot hold is refused. */
        int count() {
            long n = num();
            if (n < 0 || n > s.length() - at) throw new IllegalArgumentException("count " + n + " out of range");
            return (int) n;
        }

        char next() {
            return s.charAt(at++);
        }

        /** The fields of one message of {@code kind} ('E' or 'F'), as {@link #message(StringBuilder, JobMessage)} wrote them. */
        JobMessage message(char kind) {
            return switch (kind) {
                case 'F' -> new JobEof(num(), (int) num());
                case 'E' -> event();
                default -> throw new IllegalArgumentException("not a message: kind " + kind);
            };
        }

        boolean absent() {
            if (s.charAt(at) != NULL) return false;
            at++;
            return true;
        }

        JobEvent event() {
            return new JobEvent(
                    num(),
                    (int) num(),
                    str(),
                    str(),
                    str(),
                    str(),
                    str(),
                    (int) num(),
                    (int) num(),
                    (int) num(),
                    str(),
                    str(),
                    str(),
                    str(),
                    str(),
                    num() != 0,
                    num() != 0,
                    Timestamps.ofMicros(num()),
                    num() != 0,
                    Timestamps.ofMicros(num()));
        }

        /**
         * An event's fields as {@link #event()} reads them, keeping only its created and received times (epoch µs);
         * the strings are stepped over by their lengths.
         */
        long[] eventTimes() {
            num(); // job
            num(); // counter
            for (int i = 0; i < 5; i++) skipStr(); // uuid, parent_uuid, event, event_data, stdout
            num(); // start_line
            num(); // end_line
            num(); // verbosity
            for (int i = 0; i < 5; i++) skipStr(); // host, playbook, play, role, task
            num(); // failed
            num(); // changed
            long created = num();
            num(); // created filled in
            return new long[] {created, num()};
        }

        /** The number at the reading position, left unread. */
        long peekNum() {
            int before = at;
            long v = num();
            at = before;
            return v;
        }

        long num() {
            int end = s.indexOf(';', at);
            if (end < 0) throw new IllegalArgumentException("a number lacks its ';'");
            long v = Long.parseLong(s, at, end, 10);
            at = end + 1;
            return v;
        }

        void skipStr() {
            int colon = s.indexOf(':', at);
            if (colon < 0) throw new IllegalArgumentException("a string lacks its length");
            int length = Integer.parseInt(s, at, colon, 10);
            if (length < 0 || length > s.length() - colon - 1)
                throw new IllegalArgumentException("a string's length " + length + " passes the end");
            at = colon + 1 + length;
        }

        String str() {
            int colon = s.indexOf(':', at);
            if (colon < 0) throw new IllegalArgumentException("a string lacks its length");
            int length = Integer.parseInt(s, at, colon, 10);
            if (length < 0) throw new IllegalArgumentException("negative length");
            at = colon + 1 + length;
            return s.substring(colon + 1, at); // out of range when the entry was cut short
        }
    }
}
