package io.jobstream.event;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces every match of the operator's patterns ({@code --redact-pattern}) with {@link #MASK} in an event's
 * {@code stdout}, in every string of its {@code event_data} (object keys too: a secret can be a dict key, e.g. a
 * password used as an item name) and in the columns derived from event_data strings (host_name, playbook, play,
 * role, task), and censors results marked {@code _ansible_no_log} the way Ansible prints them. It runs in
 * {@link EventDecoder}, which every way in (HTTP ingest, callback_tasks, ansible-runner artifacts, the node's own
 * events, import) goes through, so no unredacted byte reaches the queue, the store, a socket or a log.
 *
 * <p>Design note. With no pattern configured, {@link #apply} costs one boolean test (the no_log flag comes from the
 * parser's single pass). With patterns, event_data is streamed once (no tree) and each string matched; only an event
 * with a match is parsed into a tree, edited and written back, so the bytes of every other event stay exactly as
 * the emitter sent them.
 *
 * <p>Backtracking. Java's regex engine can take exponential time on some patterns ({@code (a+)+$}); a hostile
 * emitter could send the text that triggers it. Each match runs over a {@link Budget} that counts character reads
 * and gives up past {@code BUDGET_PER_CHAR} reads per input character (plus a floor). A string that exhausts it is
 * replaced by {@link #MASK} as a whole (fail closed: it may hold a secret we could not find) and counted as
 * {@code budget_exceeded}. The limit is a work count, not a clock, so it holds the same under load.
 *
 * <p>Thread-safe: patterns are immutable; matchers are made per call.
 */
public final class Redactor {
    public static final String MASK = "********";
    /** What Ansible prints in place of a result whose task has {@code no_log: true}. */
    public static final String NO_LOG_TEXT =
            "the output has been hidden due to the fact that 'no_log: true' was specified for this result";
    /** Result keys Ansible keeps when it censors a no_log result (task_result's preserved keys). */
    private static final List<String> NO_LOG_KEEP = List.of("attempts", "changed", "retries", "failed", "skipped");

    static final int BUDGET_PER_CHAR = 1000;
    static final int BUDGET_FLOOR = 100_000;

    private final List<Pattern> patterns;
    private final LongAdder redacted = new LongAdder();
    private final LongAdder noLog = new LongAdder();
    private final LongAdder overBudget = new LongAdder();

    public Redactor(List<Pattern> patterns) {
        this.patterns = List.copyOf(patterns);
    }

    /** No pattern: only no_log results are censored. */
    public static Redactor none() {
        return new Redactor(List.of());
    }

    public boolean hasPatterns() {
        return !patterns.isEmpty();
    }

    /** Events changed by a pattern or by no_log censoring (the {@code events.redacted} counter). */
    public long redactedEvents() {
        return redacted.sum();
    }

    public long noLogEvents() {
        return noLog.sum();
    }

    /** Strings masked whole because matching them took too many steps (see the class note). */
    public long overBudgetStrings() {
        return overBudget.sum();
    }

    /**
     * The event with every match masked and a no_log result censored; the same instance when nothing changed.
     *
     * @param noLogResult the parser saw {@code event_data.res._ansible_no_log} truthy
     */
    JobEvent apply(JobEvent e, boolean noLogResult) {
        if (patterns.isEmpty() && !noLogResult) return e;
        String data = e.eventData();
        String stdout = e.stdout();
        if (noLogResult) {
            // an emitter that censored already (Ansible, jobstream's plugin) is left byte for byte as it sent it
            data = censorNoLog(data);
            if (!stdout.contains(NO_LOG_TEXT)) stdout = censorStdout(stdout);
            if (data != e.eventData() || stdout != e.stdout()) noLog.increment();
        }
        if (!patterns.isEmpty()) {
            data = redactJson(data);
            stdout = redact(stdout);
        }
        String host = redact(e.hostName());
        String playbook = redact(e.playbook());
        String play = redact(e.play());
        String role = redact(e.role());
        String task = redact(e.task());
        if (data == e.eventData()
                && stdout == e.stdout()
                && host == e.hostName()
                && playbook == e.playbook()
                && play == e.play()
                && role == e.role()
                && task == e.task()) {
            return e;
        }
        redacted.increment();
        return new JobEvent(
                e.jobId(),
                e.counter(),
                e.uuid(),
                e.parentUuid(),
                e.event(),
                data,
                stdout,
                e.startLine(),
                e.endLine(),
                e.verbosity(),
                host,
                playbook,
                play,
                role,
                task,
                e.failed(),
                e.changed(),
                e.created(),
                e.createdFilled(),
                e.received());
    }

    /** The text with every match masked; the same instance when nothing matched. */
    public String redact(String text) {
        if (text.isEmpty()) return text;
        String out = text;
        for (Pattern p : patterns) {
            Budget budget = new Budget(out);
            Matcher m = p.matcher(budget);
            try {
                if (!m.find()) continue;
                StringBuilder sb = new StringBuilder(out.length());
                int last = 0;
                do {
                    sb.append(out, last, m.start()).append(MASK);
                    last = m.end();
                } while (m.find());
                out = sb.append(out, last, out.length()).toString();
            } catch (Budget.Exceeded x) {
                overBudget.increment();
                return MASK;
            }
        }
        return out;
    }

    /**
     * event_data with every string (and key) redacted; the same instance when nothing matched. One streaming pass
     * finds out whether anything matches; only then is the tree built.
     */
    String redactJson(String json) {
        if (!anyMatchIn(json)) return json;
        try {
            JsonNode tree = Json.MAPPER.readTree(json);
            return Json.MAPPER.writeValueAsString(redactNode(tree));
        } catch (IOException e) { // the decoder walked this text already; cannot happen
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Whether any pattern matches any string or key of {@code json}. The hot part of redaction: each string is matched
     * in the parser's own buffer (no String per token) with one matcher per pattern reset for each, so an event
     * without a match allocates almost nothing. A string that exhausts the budget answers yes: the slow path masks it.
     */
    private boolean anyMatchIn(String json) {
        Matcher[] matchers = new Matcher[patterns.size()];
        Budget budget = new Budget();
        try (JsonParser p = Json.MAPPER.getFactory().createParser(json)) {
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                if (t != JsonToken.VALUE_STRING && t != JsonToken.FIELD_NAME) continue;
                int length = p.getTextLength();
                if (length == 0) continue;
                budget.reset(p.getTextCharacters(), p.getTextOffset(), length);
                for (int i = 0; i < matchers.length; i++) {
                    Matcher m =
                            matchers[i] == null ? (matchers[i] = patterns.get(i).matcher(budget)) : matchers[i];
                    m.reset(budget);
                    budget.refill();
                    if (m.find()) return true;
                }
            }
            return false;
        } catch (Budget.Exceeded x) {
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private JsonNode redactNode(JsonNode node) {
        if (node instanceof TextNode text) {
            String s = text.textValue();
            String r = redact(s);
            return r == s ? node : TextNode.valueOf(r);
        }
        if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) array.set(i, redactNode(array.get(i)));
            return node;
        }
        if (node instanceof ObjectNode object) {
            // rebuilt in order: a key may change (and two keys may become the same mask: the later one wins, as in
            // a JSON object given the same key twice)
            Map<String, JsonNode> fields = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                fields.put(redact(f.getKey()), redactNode(f.getValue()));
            }
            object.removeAll();
            object.setAll(fields);
            return node;
        }
        return node;
    }

    /** event_data whose {@code res} is replaced by Ansible's censored result, keeping the keys Ansible keeps. */
    static String censorNoLog(String json) {
        try {
            JsonNode tree = Json.MAPPER.readTree(json);
            if (!(tree instanceof ObjectNode data) || !(data.get("res") instanceof ObjectNode res)) return json;
            if (NO_LOG_TEXT.equals(res.path("censored").asText(null))) return json; // censored by the emitter
            ObjectNode censored = Json.MAPPER.createObjectNode();
            censored.put("censored", NO_LOG_TEXT);
            for (String keep : NO_LOG_KEEP) {
                if (res.has(keep)) censored.set(keep, res.get(keep));
            }
            censored.put("_ansible_no_log", true);
            data.set("res", censored);
            return Json.MAPPER.writeValueAsString(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Ansible's default callback prints a result after {@code " => "} (verbose, or a failure); for a no_log result
     * that part is the censored text. The status line before it ({@code ok: [host]}) stays.
     */
    static String censorStdout(String stdout) {
        int arrow = stdout.indexOf(" => ");
        if (arrow < 0) return stdout;
        // the lines the result took stay as empty lines, so start_line/end_line still count this event's lines
        int lines = (int) stdout.substring(arrow).chars().filter(c -> c == '\n').count();
        String escape = stdout.contains("\u001b[") ? "\u001b[0m" : "";
        return stdout.substring(0, arrow) + " => {\"censored\": \"" + NO_LOG_TEXT + "\"}" + escape + "\n".repeat(lines);
    }

    /**
     * A CharSequence over a String that counts reads and throws past its budget; the regex engine reads the input
     * only through {@code charAt}, so this bounds its work on any pattern.
     */
    static final class Budget implements CharSequence {
        /** The text: a String, or a range of a char array (a parser's buffer, valid until its next token). */
        private String s;

        private char[] chars;
        private int offset;
        private int length;
        private long left;

        Budget(String s) {
            this.s = s;
            this.length = s.length();
            refill();
        }

        /** Empty until {@link #reset}. */
        Budget() {}

        void reset(char[] chars, int offset, int length) {
            this.s = null;
            this.chars = chars;
            this.offset = offset;
            this.length = length;
        }

        /** A fresh budget for one more match over the same text. */
        void refill() {
            left = Math.max((long) BUDGET_FLOOR, (long) length * BUDGET_PER_CHAR);
        }

        @Override
        public char charAt(int index) {
            if (--left < 0) throw new Exceeded();
            if (s != null) return s.charAt(index);
            if (index < 0 || index >= length) throw new IndexOutOfBoundsException(index);
            return chars[offset + index];
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return toString().substring(start, end);
        }

        @Override
        public String toString() {
            return s != null ? s : new String(chars, offset, length);
        }

        static final class Exceeded extends RuntimeException {
            Exceeded() {
                super("regex step budget exceeded", null, false, false);
            }
        }
    }
}
