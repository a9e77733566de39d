package io.jobstream.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/**
 * The only directory launched jobs may take playbooks and inventories from. A name is relative, has no {@code ..}
 * segment, names a regular file, and still lies inside the directory once symlinks are resolved; anything else is
 * refused with a reason (400), so a launch request can never run or read a file elsewhere.
 */
public final class PlaybookDir {
    private final Path dir;

    public PlaybookDir(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
    }

    public Path path() {
        return dir;
    }

    /** @param what "playbook" or "inventory", for the message */
    public Path resolve(String name, String what) {
        if (name == null || name.isBlank()) throw bad(what + " is required");
        if (name.indexOf('\0') >= 0) throw bad(what + " must not contain NUL");
        Path relative;
        try {
            relative = Path.of(name);
        } catch (InvalidPathException e) {
            throw bad(what + " '" + name + "' is not a valid path");
        }
        if (relative.isAbsolute() || name.startsWith("/") || name.startsWith("~")) {
            throw bad(what + " '" + name + "' must be relative to the playbook directory, not absolute");
        }
        for (Path part : relative) {
            if (part.toString().equals("..")) throw bad(what + " '" + name + "' must not contain '..'");
        }
        Path candidate = dir.resolve(relative).normalize();
        if (!Files.isRegularFile(candidate))
            throw bad(what + " '" + name + "' is not a file in the playbook directory");
        try {
            Path real = candidate.toRealPath();
            if (!real.startsWith(dir.toRealPath())) {
                throw bad(what + " '" + name + "' leads outside the playbook directory (through a symlink)");
            }
            return real;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve " + candidate, e);
        }
    }

    private static LaunchException bad(String reason) {
        return new LaunchException(400, reason);
    }
}
