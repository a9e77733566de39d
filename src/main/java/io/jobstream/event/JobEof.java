package io.jobstream.event;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * AWX's {@code {"event": "EOF", "final_counter": n}}: the emitter sent n events for this job.
 * Never stored as an event row; it sets the job's {@code final_counter}.
 */
public record JobEof(long jobId, int finalCounter) implements JobMessage {
    public JobEof {
        if (jobId < 1) throw new IllegalArgumentException("jobId must be >= 1, was " + jobId);
        if (finalCounter < 0) throw new IllegalArgumentException("finalCounter must be >= 0, was " + finalCounter);
    }

    /**
     * The EOF line as an emitter sends it to ingest, for the node's own emitters (the demo's replay, the launcher
     * writing the EOF of a playbook that died). Not validated: ingest judges it as it judges any emitter's line.
     */
    public static String toJson(long jobId, int finalCounter) {
        ObjectNode eof = Json.MAPPER.createObjectNode();
        eof.put("event", "EOF");
        eof.put("job_id", jobId);
        eof.put("final_counter", finalCounter);
        return eof.toString();
    }
}
