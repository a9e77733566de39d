package io.jobstream.event;

import java.util.Locale;

/**
 * How much of a job's events is kept (SPEC §10), chosen per launch ({@code "capture"} in {@code POST /api/v2/jobs/})
 * or per ingest token. What each level keeps is {@link Capture}'s business.
 */
public enum CaptureLevel {
    /** Everything, as the emitter sent it (the default). */
    FULL,
    /** Everything but the module result payloads ({@code event_data.res}). */
    NO_EVENT_DATA,
    /** Starts of the playbook, plays and tasks, failures, changes and the stats event; the rest as bare rows. */
    SUMMARY;

    /** The name in JSON and in the database: {@code full}, {@code no_event_data}, {@code summary}. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The level a client named, or an {@link IllegalArgumentException} whose message says what is accepted (it
     * becomes a 400's reason, so it quotes the value only shortened).
     */
    public static CaptureLevel parse(String value) {
        for (CaptureLevel l : values()) {
            if (l.wire().equals(value)) return l;
        }
        String shown = value.length() > 40 ? value.substring(0, 40) + "..." : value;
        throw new IllegalArgumentException("capture must be one of full, no_event_data, summary; was '"
                + shown.replaceAll("\\p{Cntrl}", "?") + "'");
    }

    /** From the database, where a missing value means the default. */
    public static CaptureLevel ofStored(String value) {
        return value == null || value.isEmpty() ? FULL : parse(value);
    }
}
