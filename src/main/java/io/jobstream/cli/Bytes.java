package io.jobstream.cli;

import java.util.Locale;

/** Byte counts for people: 512 B, 3.4 KiB, 1.2 GiB. */
final class Bytes {
    private Bytes() {}

    static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
