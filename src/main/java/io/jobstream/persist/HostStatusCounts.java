package io.jobstream.persist;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import java.io.IOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * AWX's {@code host_status_counts} from a {@code playbook_on_stats} event: each host takes the last status in the
 * order skipped, ok, changed, failures, dark for which its count is non-zero; then hosts are counted per status.
 */
public final class HostStatusCounts {
    private static final List<String> ORDER = List.of("skipped", "ok", "changed", "failures", "dark");

    private HostStatusCounts() {}

    /** Returns the counts as a JSON object text, e.g. {@code {"ok":3,"changed":1}}. */
    public static String fromStats(String eventDataJson) {
        Map<String, String> statusByHost = new TreeMap<>();
        try {
            JsonNode data = Json.MAPPER.readTree(eventDataJson);
            for (String status : ORDER) {
                JsonNode perHost = data.path(status);
                for (Iterator<Map.Entry<String, JsonNode>> it = perHost.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    if (e.getValue().asLong(0) > 0) statusByHost.put(e.getKey(), status);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("event_data was validated as JSON at ingest", e);
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String status : statusByHost.values()) counts.merge(status, 1, Integer::sum);
        return Json.MAPPER.valueToTree(counts).toString();
    }
}
