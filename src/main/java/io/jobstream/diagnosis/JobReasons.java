package io.jobstream.diagnosis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a job's viewer may read of the node's diagnosis, for the job page's red gauge: every node-wide cause (they name
 * no one), and a subscriber finding only when it is the viewer's own connection watching this job, without its
 * address. Pure.
 */
public final class JobReasons {
    private JobReasons() {}

    /** {@code {"job", "verdict", "window_seconds", "reasons": [{"stage", "sentence", "explains"}]}}. */
    public static Map<String, Object> of(Diagnosis d, long viewerId, long jobId, long windowSeconds) {
        List<Map<String, Object>> reasons = new ArrayList<>();
        for (Finding f : d.findings()) {
            String sentence = f.summary();
            if (f.stage().equals("subscriber")) {
                boolean own = Long.valueOf(viewerId).equals(f.subject().get("user_id"));
                Object jobs = f.subject().get("jobs");
                if (!own || !(jobs instanceof List<?> list) || !list.contains(jobId)) continue;
                sentence = "a connection of yours watching this job reads slower than events arrive ("
                        + f.evidence().get("outbox_depth") + " messages queued for it)";
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("stage", f.stage());
            m.put("sentence", sentence);
            m.put("explains", Math.round(f.explains() * 100) / 100.0);
            reasons.add(m);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("job", jobId);
        out.put("verdict", reasons.isEmpty() ? Diagnosis.HEALTHY : Diagnosis.DEGRADED);
        out.put("window_seconds", windowSeconds);
        out.put("reasons", reasons);
        return out;
    }
}
