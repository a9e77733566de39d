package io.jobstream.demo;

import io.jobstream.job.JobLauncher;
import io.jobstream.job.LaunchException;
import io.jobstream.job.LaunchRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code serve --demo} with Ansible installed: launches the playbooks of the playbook directory one after another,
 * in a loop, through the same launcher as {@code POST /api/v2/jobs/}, so the demo shows real runs end to end. One
 * daemon thread, {@code demo-playbooks}; {@link #close()} interrupts and joins it (the launcher cancels what runs).
 */
public final class PlaybookDemo implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PlaybookDemo.class);
    private static final long PAUSE_MS = 3_000;

    private final JobLauncher launcher;
    private Thread thread;

    public PlaybookDemo(JobLauncher launcher) {
        this.launcher = launcher;
    }

    /** Whether the directory holds at least one playbook ({@code *.yml}). */
    public static boolean hasPlaybooks(Path dir) {
        return !playbooks(dir).isEmpty();
    }

    static List<String> playbooks(Path dir) {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".yml") || n.endsWith(".yaml"))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    public synchronized PlaybookDemo start() {
        if (thread != null) return this;
        thread = new Thread(this::loop, "demo-playbooks");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    private void loop() {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                List<String> names = playbooks(launcher.playbookDir());
                if (names.isEmpty()) {
                    Thread.sleep(PAUSE_MS);
                    continue;
                }
                for (String name : names) {
                    try {
                        long id = launcher.launch(new LaunchRequest(name, "", "{}", "", "demo: " + name, 0));
                        while (launcher.isActive(id)) Thread.sleep(200);
                    } catch (LaunchException e) {
                        LOG.warn("demo: cannot launch {}: {}", name, e.getMessage());
                    }
                    Thread.sleep(PAUSE_MS);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public synchronized void close() {
        if (thread == null) return;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        thread = null;
    }
}
