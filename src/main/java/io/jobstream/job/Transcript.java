package io.jobstream.job;

import io.jobstream.event.Redactor;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A launched job's terminal transcript ({@code <data-dir>/jobs/<id>/stdout}) written through the operator's redaction
 * patterns, so that the file holds no more than the job's stored events do ({@code --redact-pattern} promises that no
 * unredacted byte is kept). Without patterns the process writes the file itself and this class is not used.
 *
 * <p>Why lines: a pattern is matched within one line, as the events' {@code stdout} (a task's lines) is; a line with
 * no match is written as the very bytes the process printed, so the file stays equal to the job's
 * {@code stdout/?format=ansi} wherever nothing was masked. A line longer than {@link #MAX_LINE} bytes is matched in
 * pieces of that size (a secret across a piece boundary is not seen: the same bound an event's stdout has in
 * practice), so a process that never prints a newline cannot make the node buffer without bound.
 *
 * <p>Threading: one daemon thread per running job reads the process's output until every holder of the pipe has
 * closed it (the playbook and its forks); {@link #await} joins it once the job's processes have ended.
 */
final class Transcript {
    private static final Logger LOG = LoggerFactory.getLogger(Transcript.class);
    static final int MAX_LINE = 1 << 20;

    private final Thread pump;
    private final InputStream in;

    private Transcript(Thread pump, InputStream in) {
        this.pump = pump;
        this.in = in;
    }

    /** Starts copying {@code in} (the process's merged stdout and stderr) into {@code file}, line by line, redacted. */
    static Transcript start(long jobId, InputStream in, Path file, Redactor redactor) {
        Thread pump = new Thread(() -> copy(jobId, in, file, redactor), "job-" + jobId + "-transcript");
        pump.setDaemon(true);
        pump.start();
        return new Transcript(pump, in);
    }

    /**
     * Waits up to {@code within} for the output to end (the pipe closed by every process holding it). A descendant
     * that outlived the job's process group still holding the pipe would keep it open forever: after the wait the
     * pipe is closed from this side, and what it writes later is lost to the transcript (as to the job).
     */
    void await(Duration within) throws InterruptedException {
        pump.join(Math.max(1, within.toMillis()));
        if (pump.isAlive()) {
            try {
                in.close();
            } catch (IOException e) {
                // closing to unblock a read; nothing to do if that fails
            }
            pump.join(Math.max(1, within.toMillis()));
        }
    }

    static void copy(long jobId, InputStream in, Path file, Redactor redactor) {
        try (in;
                OutputStream out = new BufferedOutputStream(
                        Files.newOutputStream(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND), 64 * 1024)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            byte[] buffer = new byte[16 * 1024];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                int from = 0;
                for (int i = 0; i < n; i++) {
                    if (buffer[i] != '\n' && line.size() + (i - from) < MAX_LINE) continue;
                    line.write(buffer, from, i - from + (buffer[i] == '\n' ? 1 : 0));
                    from = i + (buffer[i] == '\n' ? 1 : 0);
                    writeLine(line, out, redactor);
                }
                line.write(buffer, from, n - from);
                // written as it comes (an operator tails it): lines complete so far, the rest waits for its newline
                out.flush();
            }
            writeLine(line, out, redactor);
        } catch (IOException e) {
            // a closed pipe after await's grace, or a full disk: the job itself runs on
            LOG.warn("job {}: its terminal transcript {} stopped: {}", jobId, file, e.toString());
        }
    }

    /** Writes the buffered line (with its newline, if it had one) redacted, and empties the buffer. */
    private static void writeLine(ByteArrayOutputStream line, OutputStream out, Redactor redactor) throws IOException {
        if (line.size() == 0) return;
        byte[] bytes = line.toByteArray();
        boolean newline = bytes[bytes.length - 1] == '\n';
        String text = new String(bytes, 0, bytes.length - (newline ? 1 : 0), StandardCharsets.UTF_8);
        String redacted = redactor.redact(text);
        if (redacted == text) {
            out.write(bytes); // nothing matched: the bytes as printed
        } else {
            out.write(redacted.getBytes(StandardCharsets.UTF_8));
            if (newline) out.write('\n');
        }
        line.reset();
    }
}
