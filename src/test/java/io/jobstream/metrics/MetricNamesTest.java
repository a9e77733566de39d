package io.jobstream.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Meter names live in {@link Metrics} only, so that docs, dashboards and alert rules have one list to follow. */
class MetricNamesTest {
    /** A meter made or looked up with a string literal as its name. */
    private static final Pattern LITERAL_NAME =
            Pattern.compile("(?:Counter|Gauge|Timer|DistributionSummary|LongTaskTimer)\\.builder\\(\\s*\"|"
                    + "\\b(?:registry|meters)\\.(?:counter|gauge|timer|summary|find|get)\\(\\s*\"");

    @Test
    void no_meter_is_named_outside_the_metrics_class() throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                if (f.endsWith(Path.of("metrics", "Metrics.java"))) continue;
                String[] lines = Files.readString(f).split("\n", -1);
                for (int i = 0; i < lines.length; i++) {
                    Matcher m = LITERAL_NAME.matcher(lines[i]);
                    if (m.find()) found.add(f + ":" + (i + 1) + ": " + lines[i].strip());
                }
            }
        }
        assertThat(found)
                .as("meter names written as literals (add a constant to Metrics)")
                .isEmpty();
    }
}
