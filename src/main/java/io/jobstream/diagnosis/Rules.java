package io.jobstream.diagnosis;

import static io.jobstream.metrics.Metrics.HOP_COMMITTED_PUBLISHED;
import static io.jobstream.metrics.Metrics.HOP_CREATED_RECEIVED;
import static io.jobstream.metrics.Metrics.HOP_CREATED_WRITTEN;
import static io.jobstream.metrics.Metrics.HOP_PUBLISHED_WRITTEN;
import static io.jobstream.metrics.Metrics.HOP_RECEIVED_COMMITTED;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The decision tree of docs/OPERATIONS.md ("Debugging lag"), walked by the node: {@link Readings} in, a
 * {@link Diagnosis} out. Pure and stateless.
 *
 * <p>Design note. Two habits keep it honest. First, no crying wolf: every rule needs a sustained signal — a hop's
 * mean <em>and</em> median over the whole window past a bound, with enough events to mean something; a share of the
 * window's samples; at least two slow transactions — so noise, JIT warm-up and one slow batch find nothing. Second,
 * cause before symptom: back-pressure travels upstream (a stalled database fills the queue, ingest replies wait for the
 * commit, emitters post late), so the rules decide the in-node causes first (database, then receiver, then queue) and
 * fold what those make the upstream hops show into the cause's {@code symptoms}; the emitter is named only when every
 * in-node hop is fast. One backed-up websocket is that subscriber, not fan-out; fan-out is named only when writes to
 * most subscribers are slow. The bounds below are documented in docs/OPERATIONS.md ("Doctor").
 */
public final class Rules {
    public static final List<String> STAGES =
            List.of("emitter", "ingest", "queue", "database", "receiver", "relay", "fanout", "subscriber");
    /** A hop needs this many events in the window before its figures count. */
    public static final long MIN_EVENTS = 20;
    /** A hop is slow when its mean is at least this… */
    public static final double SLOW_HOP_MEAN_MILLIS = 500;
    /** …and at least half its events took this long (so a few outliers do not make the mean alone). */
    public static final double SLOW_HOP_P50_MILLIS = 200;
    /** A receiver transaction this long is slow; two of them in the window are a database finding. */
    public static final double SLOW_BATCH_MILLIS = 1000;

    public static final long SLOW_BATCHES = 2;
    /**
     * A database probe this long is slow. Two failed probes in the window are a database finding, and so are two
     * slow ones if they are also {@link #SLOW_PROBE_SHARE} of the window's probes (a busy machine delays one now and
     * then).
     */
    public static final long SLOW_PROBE_MILLIS = 1000;

    public static final int BAD_PROBES = 2;
    public static final double SLOW_PROBE_SHARE = 0.2;
    /** Share of the capacity at which the queue counts as high. */
    public static final double QUEUE_HIGH = 0.5;
    /** Share of samples with the queue high, or of time in transactions, that mean the receiver is the limit. */
    public static final double SUSTAINED = 0.5;

    public static final double RECEIVER_BUSY = 0.7;
    /** Messages queued for one connection from which it counts as behind. */
    public static final long SUBSCRIBER_BEHIND = 100;
    /** Share of ingest requests answered 503, or of events refused for their rate, that is a finding. */
    public static final double REFUSED_SHARE = 0.01;

    private static final String DOC = "docs/OPERATIONS.md#";

    private Rules() {}

    public static Diagnosis diagnose(Readings r) {
        List<Finding> findings = new ArrayList<>();
        double e2e = endToEndMillis(r);
        Finding inNode = database(r, e2e);
        if (inNode == null) inNode = receiver(r, e2e);
        if (inNode == null) inNode = queue(r, e2e);
        if (inNode != null) findings.add(inNode);
        else {
            Finding emitter = emitter(r, e2e);
            if (emitter != null) findings.add(emitter);
        }
        add(findings, ingest(r, e2e, inNode != null));
        add(findings, relay(r, e2e));
        List<Finding> subscribers = subscribers(r, e2e);
        Finding fanout = fanout(r, e2e, subscribers.size());
        if (fanout != null) findings.add(fanout);
        else findings.addAll(subscribers);
        findings.sort(Comparator.comparingDouble(Finding::explains).reversed());
        Map<String, Object> window = new LinkedHashMap<>();
        window.put("seconds", r.windowSeconds());
        window.put("covered_seconds", round(r.coveredSeconds()));
        window.put("samples", r.samples());
        window.put("end_to_end_mean_ms", round(e2e));
        return new Diagnosis(findings.isEmpty() ? Diagnosis.HEALTHY : Diagnosis.DEGRADED, window, findings);
    }

    /** created → written when subscribers got events, else the sum of the hops the events took. */
    static double endToEndMillis(Readings r) {
        Readings.Hop e2e = r.hop(HOP_CREATED_WRITTEN);
        double sum = 0;
        for (String hop :
                List.of(HOP_CREATED_RECEIVED, HOP_RECEIVED_COMMITTED, HOP_COMMITTED_PUBLISHED, HOP_PUBLISHED_WRITTEN)) {
            if (r.hop(hop).events() > 0) sum += r.hop(hop).meanMillis();
        }
        return e2e.events() >= MIN_EVENTS ? Math.max(e2e.meanMillis(), 0) : sum;
    }

    static boolean slow(Readings.Hop h) {
        return h.events() >= MIN_EVENTS
                && h.meanMillis() >= SLOW_HOP_MEAN_MILLIS
                && h.p50Millis() >= SLOW_HOP_P50_MILLIS;
    }

    private static Finding database(Readings r, double e2e) {
        Readings.Batches b = r.batches();
        Readings.Probes p = r.database();
        Readings.Hop committed = r.hop(HOP_RECEIVED_COMMITTED);
        boolean slowCommits = b.slow() >= SLOW_BATCHES && slow(committed);
        boolean badProbes = p.failed() >= BAD_PROBES
                || (p.failed() + p.slow() >= BAD_PROBES
                        && p.failed() + p.slow() >= SLOW_PROBE_SHARE * Math.max(1, p.probes()));
        boolean failing = b.failures() >= 2;
        if (!slowCommits && !badProbes && !failing) return null;
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("slow_batches", b.slow());
        ev.put("batches", b.count());
        ev.put("batch_mean_ms", round(b.meanMillis()));
        ev.put("batch_p99_ms_at_most", bound(b.p99Millis()));
        ev.put("store_failures", b.failures());
        ev.put("probes", p.probes());
        ev.put("probes_failed", p.failed());
        ev.put("probes_slow", p.slow());
        ev.put("probe_worst_ms", p.worstMillis());
        hopEvidence(ev, HOP_RECEIVED_COMMITTED, committed);
        String summary;
        if (slowCommits)
            summary = String.format(
                    "database commits are slow: %s per batch on average, %d batches over %s",
                    seconds(b.meanMillis()), b.slow(), seconds(SLOW_BATCH_MILLIS));
        else if (failing) summary = "the database is failing: " + b.failures() + " store attempts failed";
        else
            summary = String.format(
                    "the database answers slowly or not at all: %d of %d probes failed or took over %s (worst %s)",
                    p.failed() + p.slow(), p.probes(), seconds(SLOW_PROBE_MILLIS), seconds(p.worstMillis()));
        return inNodeFinding(r, e2e, "database", summary, ev, DOC + "finding-database");
    }

    private static Finding receiver(Readings r, double e2e) {
        Readings.Batches b = r.batches();
        Readings.Hop committed = r.hop(HOP_RECEIVED_COMMITTED);
        boolean full = r.queue().highFraction() >= SUSTAINED;
        boolean refused = share(r.ingest().unavailable(), r.ingest().requests()) >= REFUSED_SHARE;
        if (b.busyFraction() < RECEIVER_BUSY || !(slow(committed) || full || refused)) return null;
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("busy_fraction", round2(b.busyFraction()));
        ev.put("stored_per_second", round(b.stored() / Math.max(1, r.coveredSeconds())));
        ev.put("batch_mean_size", round(b.meanSize()));
        ev.put("batch_mean_ms", round(b.meanMillis()));
        queueEvidence(ev, r);
        hopEvidence(ev, HOP_RECEIVED_COMMITTED, committed);
        String summary = String.format(
                "the receiver cannot keep up: busy %d%% of the time storing %.0f events/s, queue %d of %d",
                Math.round(b.busyFraction() * 100),
                b.stored() / Math.max(1, r.coveredSeconds()),
                r.queue().depthNow(),
                r.queue().capacity());
        return inNodeFinding(r, e2e, "receiver", summary, ev, DOC + "finding-receiver");
    }

    /** Events wait in the queue while the receiver is mostly idle: something between them (in cluster mode, Redis). */
    private static Finding queue(Readings r, double e2e) {
        Readings.Hop committed = r.hop(HOP_RECEIVED_COMMITTED);
        if (!slow(committed) || r.batches().busyFraction() >= RECEIVER_BUSY) return null;
        if (r.batches().meanMillis() >= committed.meanMillis() / 2) return null; // the commit itself is the time
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("busy_fraction", round2(r.batches().busyFraction()));
        ev.put("batch_mean_ms", round(r.batches().meanMillis()));
        queueEvidence(ev, r);
        hopEvidence(ev, HOP_RECEIVED_COMMITTED, committed);
        String summary = String.format(
                "events wait %s in the queue while the receiver is idle %d%% of the time%s",
                seconds(committed.meanMillis()),
                Math.round((1 - r.batches().busyFraction()) * 100),
                r.clusterMode() ? " (the Redis stream: pending or unclaimed entries)" : "");
        return inNodeFinding(r, e2e, "queue", summary, ev, DOC + "finding-queue");
    }

    /** A cause inside the node; what it makes created → received show is its symptom, and part of what it explains. */
    private static Finding inNodeFinding(
            Readings r, double e2e, String stage, String summary, Map<String, Object> ev, String action) {
        Readings.Hop committed = r.hop(HOP_RECEIVED_COMMITTED);
        Readings.Hop received = r.hop(HOP_CREATED_RECEIVED);
        List<String> symptoms = new ArrayList<>();
        double millis = committed.events() > 0 ? committed.meanMillis() : 0;
        if (slow(received)) {
            symptoms.add(String.format(
                    "created → received %s on average: emitters wait for ingest replies, which wait for the commit",
                    seconds(received.meanMillis())));
            millis += received.meanMillis();
        }
        if (r.ingest().unavailable() > 0)
            symptoms.add(r.ingest().unavailable() + " ingest requests answered 503 (queue full); emitters retry them");
        double explains = e2e > 0 ? Math.min(1, millis / e2e) : 0;
        return new Finding(
                stage, HOP_RECEIVED_COMMITTED, summary, ev, Map.of(), symptoms, actionFor(stage, action), explains);
    }

    private static Finding emitter(Readings r, double e2e) {
        Readings.Hop received = r.hop(HOP_CREATED_RECEIVED);
        if (!slow(received)) return null;
        for (String hop : List.of(HOP_RECEIVED_COMMITTED, HOP_COMMITTED_PUBLISHED)) {
            if (slow(r.hop(hop))) return null; // not "every hop in the node is fast"
        }
        Map<String, Object> ev = new LinkedHashMap<>();
        hopEvidence(ev, HOP_CREATED_RECEIVED, received);
        hopEvidence(ev, HOP_RECEIVED_COMMITTED, r.hop(HOP_RECEIVED_COMMITTED));
        // a lag that hardly varies (median and 99th percentile within one bucket step) is a fixed offset: a clock
        boolean constant = received.p99Millis() <= received.p50Millis() * 2.5;
        ev.put("constant_offset", constant);
        String summary = String.format(
                "events arrive late from their emitters: created → received %s on average while every hop in the"
                        + " node is fast%s",
                seconds(received.meanMillis()),
                constant ? " (nearly the same for every event: the emitter's clock may be off)" : "");
        return new Finding(
                "emitter",
                HOP_CREATED_RECEIVED,
                summary,
                ev,
                Map.of(),
                List.of(),
                actionFor("emitter", DOC + "finding-emitter"),
                e2e > 0 ? Math.min(1, received.meanMillis() / e2e) : 1);
    }

    /** Emitters refused for their rate (429) are an ingest finding; 503s with an in-node cause are its symptom. */
    private static Finding ingest(Readings r, double e2e, boolean inNodeCause) {
        Readings.Ingest in = r.ingest();
        long received = r.hop(HOP_CREATED_RECEIVED).events() + in.rateLimited();
        boolean limited = in.rateLimited() > 0 && share(in.rateLimited(), received) >= REFUSED_SHARE;
        boolean unavailable = !inNodeCause && share(in.unavailable(), in.requests()) >= REFUSED_SHARE;
        if (!limited && !unavailable) return null;
        Map<String, Object> ev = new LinkedHashMap<>();
        ev.put("requests", in.requests());
        ev.put("answered_503", in.unavailable());
        ev.put("events_rate_limited", in.rateLimited());
        queueEvidence(ev, r);
        String summary = limited
                ? String.format("emitters are over their rate limit: %d events refused with 429", in.rateLimited())
                : String.format(
                        "ingest refused %d of %d requests with 503 (queue full)", in.unavailable(), in.requests());
        double explains = e2e > 0 ? Math.min(1, r.hop(HOP_CREATED_RECEIVED).meanMillis() / e2e) : 0;
        return new Finding(
                "ingest",
                HOP_CREATED_RECEIVED,
                summary,
                ev,
                Map.of(),
                List.of(),
                actionFor("ingest", DOC + "finding-ingest"),
                explains);
    }

    /** Commit → publish: the broadcast; in cluster mode that is the Redis relay, and relay failures count too. */
    private static Finding relay(Readings r, double e2e) {
        Readings.Hop published = r.hop(HOP_COMMITTED_PUBLISHED);
        boolean failing = r.relay().failures() > 0 && r.clusterMode();
        if (!slow(published) && !failing) return null;
        String stage = r.clusterMode() ? "relay" : "fanout";
        Map<String, Object> ev = new LinkedHashMap<>();
        hopEvidence(ev, HOP_COMMITTED_PUBLISHED, published);
        if (r.clusterMode()) {
            ev.put("relay_published", r.relay().published());
            ev.put("relay_received", r.relay().received());
            ev.put("relay_failures", r.relay().failures());
        }
        String summary = r.clusterMode()
                ? String.format(
                        "the cross-node relay is slow or failing: commit → publish %s on average, %d relay failures",
                        seconds(published.meanMillis()), r.relay().failures())
                : String.format(
                        "building and handing out messages is slow: commit → publish %s on average",
                        seconds(published.meanMillis()));
        return new Finding(
                stage,
                HOP_COMMITTED_PUBLISHED,
                summary,
                ev,
                Map.of(),
                List.of(),
                actionFor(stage, DOC + "finding-" + stage),
                e2e > 0 && published.events() > 0 ? Math.min(1, published.meanMillis() / e2e) : 0);
    }

    /** Writes to most subscribers are slow: the node's fan-out (CPU, network), not one reader. */
    private static Finding fanout(Readings r, double e2e, int behind) {
        Readings.Hop written = r.hop(HOP_PUBLISHED_WRITTEN);
        if (!slow(written)) return null;
        if (behind > 0 && behind * 2 < Math.max(1, r.connections())) return null; // a few readers: they are named
        Map<String, Object> ev = new LinkedHashMap<>();
        hopEvidence(ev, HOP_PUBLISHED_WRITTEN, written);
        ev.put("connections", r.connections());
        ev.put("subscribers_behind", behind);
        String summary = String.format(
                "fan-out is slow: publish → written %s on average over %d connections, %d of them behind",
                seconds(written.meanMillis()), r.connections(), behind);
        return new Finding(
                "fanout",
                HOP_PUBLISHED_WRITTEN,
                summary,
                ev,
                Map.of(),
                List.of(),
                actionFor("fanout", DOC + "finding-fanout"),
                e2e > 0 ? Math.min(1, written.meanMillis() / e2e) : 0);
    }

    /** Each connection behind for most of the window and still behind now: that reader, by name. */
    private static List<Finding> subscribers(Readings r, double e2e) {
        List<Finding> out = new ArrayList<>();
        for (Readings.Subscriber s : r.subscribers()) {
            boolean behindNow = s.queuedNow() >= SUBSCRIBER_BEHIND || s.catchingUp();
            if (!behindNow || s.behindFraction() < SUSTAINED || r.samples() < 2) continue;
            Map<String, Object> ev = new LinkedHashMap<>();
            ev.put("user_id", s.user());
            ev.put("outbox_depth", s.queuedNow());
            ev.put("outbox_depth_max", s.queuedMax());
            ev.put("catching_up", s.catchingUp() ? 1 : 0);
            ev.put("behind_fraction", round2(s.behindFraction()));
            ev.put("behind_seconds", round(s.behindSeconds()));
            Map<String, Object> subject = new LinkedHashMap<>();
            subject.put("user", s.username());
            subject.put("user_id", s.user());
            subject.put("remote", s.remote());
            subject.put("jobs", s.jobs());
            String summary = String.format(
                    "subscriber %s at %s (jobs %s) reads slower than events arrive: %d messages queued, behind for %s",
                    s.username(), s.remote(), s.jobs(), s.queuedNow(), seconds(s.behindSeconds() * 1000));
            double own = s.behindSeconds() * 1000;
            out.add(new Finding(
                    "subscriber",
                    HOP_PUBLISHED_WRITTEN,
                    summary,
                    ev,
                    subject,
                    List.of(),
                    actionFor("subscriber", DOC + "finding-subscriber"),
                    own + e2e > 0 ? own / (own + e2e) : 0));
        }
        return out;
    }

    private static void add(List<Finding> findings, Finding f) {
        if (f != null) findings.add(f);
    }

    private static String actionFor(String stage, String anchor) {
        String what = switch (stage) {
            case "database" ->
                "Check the database's disk, CPU and locks (and its log); events wait queued, nothing is" + " lost";
            case "receiver" ->
                "The offered rate is above what one receiver's COPY sustains: fewer or slower emitters,"
                        + " a faster disk, or more nodes sharing the work";
            case "queue" ->
                "Events wait between ingest and the receiver: check the queue (in cluster mode the Redis"
                        + " stream's pending entries and claims)";
            case "emitter" ->
                "Look at the emitters: batching, retries, or a clock that is off (compare `date` there" + " and here)";
            case "ingest" -> "Emitters are refused at the door: raise ingest.max-rate or slow the emitters";
            case "relay" -> "Check Redis and the network between nodes (latency, pub/sub output buffers)";
            case "fanout" -> "Too much to send for this node: fewer subscribers per node, more nodes, or more CPU";
            case "subscriber" ->
                "That client reads slowly (a busy browser tab or slow link); it is caught up from the"
                        + " store, others are not affected";
            default -> "See";
        };
        return what + ": " + anchor;
    }

    private static void hopEvidence(Map<String, Object> ev, String hop, Readings.Hop h) {
        ev.put(hop + "_events", h.events());
        ev.put(hop + "_mean_ms", round(h.meanMillis()));
        ev.put(hop + "_p50_ms_at_most", bound(h.p50Millis()));
        ev.put(hop + "_p99_ms_at_most", bound(h.p99Millis()));
    }

    private static void queueEvidence(Map<String, Object> ev, Readings r) {
        ev.put("queue_depth", r.queue().depthNow());
        ev.put("queue_depth_max", r.queue().depthMax());
        ev.put("queue_capacity", r.queue().capacity());
        ev.put("queue_high_fraction", round2(r.queue().highFraction()));
        ev.put("ingest_503", r.ingest().unavailable());
    }

    private static double share(long part, long whole) {
        return whole <= 0 ? 0 : (double) part / whole;
    }

    static String seconds(double millis) {
        if (Double.isInfinite(millis)) return "over 60 s";
        if (millis < 1000) return Math.round(millis) + " ms";
        return String.format("%.1f s", millis / 1000);
    }

    private static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 10) / 10.0 : -1;
    }

    private static double round2(double v) {
        return Math.round(v * 100) / 100.0;
    }

    /** A bucket bound, or -1 when over the largest bucket (60 s): JSON has no infinity. */
    private static double bound(double millis) {
        return Double.isInfinite(millis) ? -1 : millis;
    }
}
