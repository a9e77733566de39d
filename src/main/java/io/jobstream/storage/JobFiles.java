package io.jobstream.storage;

import io.jobstream.config.PrivateFiles;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The launched jobs' files on this node ({@code <data-dir>/jobs/<id>/}: the terminal output and extra vars, see
 * {@code job.PlaybookCommand}) follow their job's events: once retention deleted those (or the whole job), the
 * directory goes too. Each node sweeps its own data dir, since the cleanup that expired the job may have run on
 * another. A directory goes when the store says its job's events expired; one whose job has no row any more goes only
 * when whole jobs are retained ({@code jobsRetention} set) and its files are older than that, so a node pointed at
 * another (or a new) database never deletes the files of jobs that database does not know. A store that cannot
 * answer deletes nothing. Called on the retention thread.
 */
final class JobFiles {
    private final Path jobsDir;
    private final StorageReader store;
    private final Duration jobsRetention;
    private final Clock clock;

    JobFiles(Path jobsDir, StorageReader store, Duration jobsRetention, Clock clock) {
        this.jobsDir = jobsDir;
        this.store = store;
        this.jobsRetention = jobsRetention;
        this.clock = clock;
    }

    /** Deletes the directories of jobs whose events are gone; returns how many. */
    int sweep() throws IOException {
        if (!Files.isDirectory(jobsDir, LinkOption.NOFOLLOW_LINKS)) return 0;
        Map<Long, Path> dirs = new HashMap<>();
        try (DirectoryStream<Path> list = Files.newDirectoryStream(jobsDir)) {
            for (Path p : list) {
                String name = p.getFileName().toString();
                if (name.matches("[1-9][0-9]{0,17}") && Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    dirs.put(Long.parseLong(name), p);
                }
            }
        }
        if (dirs.isEmpty()) return 0;
        Map<Long, Boolean> expired = store.eventsExpired(dirs.keySet());
        int deleted = 0;
        for (Map.Entry<Long, Path> d : dirs.entrySet()) {
            Boolean gone = expired.get(d.getKey());
            if (gone == null ? !oldEnough(d.getValue()) : !gone) continue;
            PrivateFiles.deleteTree(d.getValue());
            deleted++;
        }
        return deleted;
    }

    private boolean oldEnough(Path dir) throws IOException {
        if (jobsRetention.isZero()) return false;
        Instant newest =
                Files.getLastModifiedTime(dir, LinkOption.NOFOLLOW_LINKS).toInstant();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Instant t =
                        Files.getLastModifiedTime(f, LinkOption.NOFOLLOW_LINKS).toInstant();
                if (t.isAfter(newest)) newest = t;
            }
        }
        return newest.isBefore(clock.instant().minus(jobsRetention));
    }
}
