package io.jobstream.diagnosis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The answer of {@link Rules}: healthy when nothing explains lag, else the findings, most explaining first. */
public record Diagnosis(String verdict, Map<String, Object> window, List<Finding> findings) {
    public static final String HEALTHY = "healthy";
    public static final String DEGRADED = "degraded";

    public boolean healthy() {
        return verdict.equals(HEALTHY);
    }

    /** The JSON shape of SPEC §13 ({@code GET /api/v2/diagnosis/}, {@code ./jobstream doctor --json}). */
    public Map<String, Object> toJson() {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("verdict", verdict);
        out.put("window", window);
        List<Map<String, Object>> list = new ArrayList<>();
        for (Finding f : findings) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("stage", f.stage());
            m.put("hop", f.hop());
            m.put("summary", f.summary());
            m.put("evidence", f.evidence());
            if (!f.subject().isEmpty()) m.put("subject", f.subject());
            if (!f.symptoms().isEmpty()) m.put("symptoms", f.symptoms());
            m.put("action", f.action());
            m.put("explains", Math.round(f.explains() * 100) / 100.0);
            list.add(m);
        }
        out.put("findings", list);
        return out;
    }
}
