package io.jobstream.testing;

import java.net.URI;

/** Reads one sample from a node's Prometheus {@code /metrics} text. */
public final class MetricsText {
    private MetricsText() {}

    /** The value of the first sample whose line starts with {@code prefix} (name and labels), or 0 when none. */
    public static double value(URI metrics, String prefix) {
        for (String line : Http.get(metrics).body().split("\n")) {
            if (line.startsWith(prefix)) return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
        return 0;
    }

    /** The sum of every sample of {@code name} (all label values), 0 when none. */
    public static double sum(URI metrics, String name) {
        double total = 0;
        for (String line : Http.get(metrics).body().split("\n")) {
            if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }
}
