package io.jobstream.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Builds a {@link Config} from layers: defaults, then environment variables, then flags (later wins).
 * Validation runs once and collects every error before failing, each naming the key and the bad value.
 */
public final class ConfigLoader {
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([KMG]i?B|B)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)", Pattern.CASE_INSENSITIVE);

    private final Map<String, String> values = new HashMap<>();
    private final List<String> problems = new ArrayList<>();

    private ConfigLoader() {}

    /**
     * @param env   the process environment ({@code JOBSTREAM_*} names)
     * @param flags setting key to value, as given on the command line
     */
    public static Config load(Map<String, String> env, Map<String, String> flags) {
        ConfigLoader l = new ConfigLoader();
        for (Setting s : Settings.ALL) {
            String v = flags.getOrDefault(s.key(), env.getOrDefault(s.env(), s.defaultValue()));
            l.values.put(s.key(), Settings.isRepeatable(s) ? v : v.trim()); // a pattern's spaces are its own
        }
        for (String key : flags.keySet()) {
            if (Settings.ALL.stream().noneMatch(s -> s.key().equals(key))) l.problems.add("unknown setting " + key);
        }
        return l.build();
    }

    private Config build() {
        var http = new Config.HttpConfig(
                string(Settings.HOST),
                intIn(Settings.PORT, 0, 65535),
                tls(),
                duration(Settings.HTTP_IDLE_TIMEOUT, Duration.ofMillis(100)),
                size(Settings.HTTP_MIN_REQUEST_RATE, 0, 1L << 30),
                new Config.Downloads(
                        size(Settings.HTTP_DOWNLOAD_PAGE_SIZE, 64L << 10, 1L << 30),
                        size(Settings.HTTP_MIN_RESPONSE_RATE, 0, 1L << 30),
                        Config.Downloads.DEFAULT.rateGrace(),
                        intIn(Settings.HTTP_MAX_DOWNLOADS_PER_USER, 0, 100_000)),
                intIn(Settings.HTTP_MAX_REQUESTS_PER_USER, 0, 100_000),
                new Config.CpuShare(
                        cores(Settings.HTTP_MAX_CPU_PER_USER),
                        duration(Settings.HTTP_CPU_BURST_PER_USER, Duration.ofMillis(1))),
                trustedProxies());
        Path dataDir = Path.of(string(Settings.DATA_DIR));
        String binaries = string(Settings.DATABASE_BINARIES_DIR);
        var db = new Config.DatabaseConfig(
                databaseUrl(),
                dataDir,
                intIn(Settings.DATABASE_POOL_SIZE, 2, 200),
                binaries.isEmpty() ? dataDir.resolve("pg-bin") : Path.of(binaries));
        var ingest = new Config.IngestConfig(
                (int) size(Settings.MAX_EVENT_SIZE, 1024, 256L << 20),
                size(Settings.MAX_REQUEST_SIZE, 1024, 1L << 30),
                duration(Settings.COMMIT_TIMEOUT, Duration.ofMillis(100)),
                intIn(Settings.MAX_RATE, 0, 100_000_000),
                intIn(Settings.RATE_BURST, 0, 100_000_000),
                intIn(Settings.MAX_JSON_DEPTH, 4, 1000), // 1000: event.Json.MAX_NESTING_DEPTH
                patterns(Settings.REDACT_PATTERN));
        var queue = new Config.QueueConfig(
                intIn(Settings.QUEUE_CAPACITY, 1, 10_000_000), size(Settings.QUEUE_MAX_BYTES, 1L << 20, 1L << 40));
        var persist = new Config.PersistConfig(
                intIn(Settings.MAX_BATCH, 1, 100_000), duration(Settings.MAX_RETRY_BACKOFF, Duration.ofMillis(10)));
        var ws = new Config.WsConfig(
                intIn(Settings.OUTBOX_CAPACITY, 1, 10_000_000),
                duration(Settings.GAP_WAIT, Duration.ofMillis(1)),
                duration(Settings.HOLE_WAIT, Duration.ofMillis(1)),
                intIn(Settings.MAX_EVENT_RATE, 0, 10_000_000),
                new Config.WsLimits(
                        (int) size(Settings.WS_MAX_MESSAGE_SIZE, 1024, 64L << 20),
                        intIn(Settings.WS_MAX_SUBSCRIPTIONS, 1, 1_000_000),
                        intIn(Settings.WS_MAX_CONNECTIONS_PER_USER, 0, 1_000_000),
                        intIn(Settings.WS_MAX_MESSAGE_RATE, 0, 1_000_000),
                        intIn(Settings.WS_MAX_JSON_DEPTH, 4, 1000),
                        duration(Settings.WS_IDLE_TIMEOUT, Duration.ofMillis(100)),
                        intIn(Settings.WS_MAX_SUBSCRIBES_PER_USER, 0, 1_000_000),
                        intIn(Settings.WS_MAX_REFUSED_MESSAGES, 0, 1_000_000),
                        duration(Settings.WS_REFUSED_BLOCK, Duration.ZERO)),
                new Config.OutboxBytes(
                        size(Settings.WS_OUTBOX_MAX_BYTES, 64L << 10, 1L << 40),
                        size(Settings.WS_OUTBOX_MAX_BYTES_PER_USER, 64L << 10, 1L << 40),
                        size(Settings.WS_OUTBOX_MAX_BYTES_TOTAL, 64L << 10, 1L << 40)),
                duration(Settings.SSE_HEARTBEAT, Duration.ofMillis(100)));
        var cluster = new Config.ClusterConfig(
                redisUrl(),
                nodeName(),
                duration(Settings.NODE_TIMEOUT, Duration.ofSeconds(1)),
                bool(Settings.REDIS_WAIT_AOF));
        boolean demo = bool(Settings.DEMO);
        var jobs = new Config.JobsConfig(
                Path.of(string(Settings.PLAYBOOK_DIR)),
                intIn(Settings.JOBS_MAX_RUNNING, 1, 1000),
                intIn(Settings.JOBS_MAX_PENDING, 0, 1_000_000),
                duration(Settings.JOBS_CANCEL_GRACE, Duration.ofMillis(100)),
                string(Settings.ANSIBLE_PLAYBOOK),
                intIn(Settings.JOBS_MAX_RUNNING_PER_USER, 0, 1000),
                intIn(Settings.JOBS_MAX_PENDING_PER_USER, 0, 1_000_000),
                names(Settings.JOBS_PASS_ENV),
                intIn(Settings.JOBS_MAX_LAUNCHES_PER_MINUTE, 0, 1_000_000),
                intIn(Settings.JOBS_NICE, 0, 19), // setpriority's range; below 0 needs privileges
                duration(Settings.JOBS_LOST_NODE_TIMEOUT, Duration.ZERO));
        if (!jobs.lostNodeTimeout().isZero() && jobs.lostNodeTimeout().compareTo(cluster.nodeTimeout()) <= 0) {
            problems.add(Settings.JOBS_LOST_NODE_TIMEOUT.key() + " must be 0 or longer than "
                    + Settings.NODE_TIMEOUT.key() + " (" + cluster.nodeTimeout().toMillis() + "ms), was "
                    + jobs.lostNodeTimeout().toMillis() + "ms");
        }
        var auth = new Config.AuthConfig(
                string(Settings.ADMIN_PASSWORD),
                duration(Settings.SESSION_TIMEOUT, Duration.ofMinutes(1)),
                duration(Settings.BASIC_CACHE, Duration.ZERO),
                launchBy(),
                new Config.AuthLimits(
                        intIn(Settings.FAILED_LOGINS_PER_ADDRESS, 1, 1_000_000),
                        intIn(Settings.FAILED_LOGINS_PER_USER, 1, 1_000_000),
                        intIn(Settings.HASH_CONCURRENCY, 0, 1024),
                        duration(Settings.HASH_WAIT, Duration.ZERO),
                        intIn(Settings.MAX_TOKENS_PER_USER, 1, 1_000_000),
                        intIn(Settings.MAX_NEW_JOBS_PER_USER, 1, 1_000_000),
                        intIn(Settings.MAX_NEW_PARTITIONS, 0, 1_000_000),
                        intIn(Settings.FAILED_REQUESTS_PER_ADDRESS, 0, 1_000_000),
                        intIn(Settings.MAX_SESSIONS_PER_USER, 1, 1_000_000)));
        if (ingest.maxEventBytes() > ingest.maxRequestBytes()) {
            problems.add(Settings.MAX_EVENT_SIZE.key() + " must not exceed " + Settings.MAX_REQUEST_SIZE.key());
        }
        var retention = new Config.RetentionConfig(
                parse(Settings.RETENTION_EVENTS, ConfigLoader::parseRetention, Duration.ZERO),
                parse(Settings.RETENTION_JOBS, ConfigLoader::parseRetention, Duration.ZERO),
                durationIn(Settings.RETENTION_INTERVAL, Duration.ofSeconds(1), Duration.ofHours(24)),
                intIn(Settings.RETENTION_BATCH_SIZE, 100, 1_000_000));
        if (!problems.isEmpty()) throw new ConfigException(problems);
        return new Config(http, db, ingest, queue, persist, ws, cluster, demo, jobs, auth, retention);
    }

    private boolean launchBy() {
        String v = string(Settings.LAUNCH_BY);
        if (!v.equals("users") && !v.equals("admins")) {
            problems.add(Settings.LAUNCH_BY.key() + " must be 'users' or 'admins', was '" + v + "'");
        }
        return v.equals("admins");
    }

    private Config.TlsConfig tls() {
        Optional<Path> cert = readableFile(Settings.TLS_CERT);
        Optional<Path> key = readableFile(Settings.TLS_KEY);
        boolean selfSigned = bool(Settings.TLS_SELF_SIGNED);
        if (cert.isPresent() != key.isPresent()) {
            problems.add(
                    Settings.TLS_CERT.key() + " and " + Settings.TLS_KEY.key() + " go together; only one was given");
        }
        if (selfSigned && cert.isPresent()) {
            problems.add(Settings.TLS_SELF_SIGNED.key() + " and " + Settings.TLS_CERT.key() + " exclude each other");
        }
        return new Config.TlsConfig(cert, key, selfSigned);
    }

    private Optional<Path> readableFile(Setting s) {
        String v = string(s);
        if (v.isEmpty()) return Optional.empty();
        Path p = Path.of(v);
        if (!Files.isReadable(p) || Files.isDirectory(p)) {
            problems.add(
                    s.key() + " must be a readable file, was '" + v + "' (flag " + s.flag() + ", env " + s.env() + ")");
        }
        return Optional.of(p);
    }

    private String databaseUrl() {
        String url = string(Settings.DATABASE_URL);
        if (!url.isEmpty()
                && !url.startsWith("postgresql://")
                && !url.startsWith("postgres://")
                && !url.startsWith("jdbc:postgresql://")) {
            problems.add(Settings.DATABASE_URL.key() + " must start with postgresql://, was " + redacted(url));
        }
        return url;
    }

    private String redisUrl() {
        String url = string(Settings.REDIS_URL);
        if (!url.isEmpty() && !url.matches("rediss?://[^/\\s]+(/\\d+)?/?")) {
            problems.add(Settings.REDIS_URL.key() + " must look like redis://host:port[/db], was " + redacted(url));
        }
        return url;
    }

    /** A URL for an error message: the password of {@code scheme://user:password@host} replaced, so it is never printed. */
    static String redacted(String url) {
        return url.replaceAll("(://[^/@\\s]*?:)[^/@\\s]*@", "$1***@");
    }

    private String nodeName() {
        String name = string(Settings.NODE_NAME);
        if (!name.isEmpty()) {
            if (!name.matches("[A-Za-z0-9._-]{1,100}")) {
                problems.add(
                        Settings.NODE_NAME.key() + " may hold only letters, digits, '.', '_' and '-', was " + name);
            }
            return name;
        }
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9._-]", "_");
        } catch (java.net.UnknownHostException e) {
            host = "localhost";
        }
        return host + "-" + ProcessHandle.current().pid();
    }

    /** A comma-separated list of environment variable names (blank: none). */
    private List<String> names(Setting s) {
        List<String> names = new ArrayList<>();
        for (String n : string(s).split(",")) {
            String name = n.trim();
            if (name.isEmpty()) continue;
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                problems.add(s.key() + " must list environment variable names, was '" + name + "' (flag " + s.flag()
                        + ", env " + s.env() + ")");
            } else {
                names.add(name);
            }
        }
        return names;
    }

    private TrustedProxies trustedProxies() {
        try {
            return TrustedProxies.parse(string(Settings.HTTP_TRUSTED_PROXIES));
        } catch (IllegalArgumentException e) {
            problems.add(Settings.HTTP_TRUSTED_PROXIES.key() + ": " + e.getMessage());
            return TrustedProxies.NONE;
        }
    }

    private String string(Setting s) {
        return values.get(s.key());
    }

    private int intIn(Setting s, int min, int max) {
        return parse(
                s,
                v -> {
                    int n = Integer.parseInt(v);
                    if (n < min || n > max) throw new IllegalArgumentException("must be from " + min + " to " + max);
                    return n;
                },
                0);
    }

    /** A share of the machine in cores: a decimal number from 0 to 1024 (0.5 = half of one core). */
    private double cores(Setting s) {
        return parse(
                s,
                v -> {
                    if (!v.matches("[0-9]{1,4}(\\.[0-9]{1,6})?"))
                        throw new IllegalArgumentException("must be a decimal number of cores such as 0.5");
                    double n = Double.parseDouble(v);
                    if (!(n >= 0 && n <= 1024)) throw new IllegalArgumentException("must be from 0 to 1024 (cores)");
                    return n;
                },
                0.0);
    }

    private boolean bool(Setting s) {
        return parse(
                s,
                v -> switch (v.toLowerCase(Locale.ROOT)) {
                    case "true", "yes", "1", "on" -> true;
                    case "false", "no", "0", "off", "" -> false;
                    default -> throw new IllegalArgumentException("must be true or false");
                },
                false);
    }

    private long size(Setting s, long min, long max) {
        return parse(
                s,
                v -> {
                    Matcher m = SIZE.matcher(v);
                    if (!m.matches()) throw new IllegalArgumentException("must be a size such as 512KiB or 2MiB");
                    long n = Long.parseLong(m.group(1)) * multiplier(m.group(2));
                    if (n < min || n > max)
                        throw new IllegalArgumentException("must be from " + min + " to " + max + " bytes");
                    return n;
                },
                0L);
    }

    private static long multiplier(String unit) {
        if (unit == null) return 1;
        return switch (unit.toUpperCase(Locale.ROOT)) {
            case "KB" -> 1_000L;
            case "KIB" -> 1L << 10;
            case "MB" -> 1_000_000L;
            case "MIB" -> 1L << 20;
            case "GB" -> 1_000_000_000L;
            case "GIB" -> 1L << 30;
            default -> 1;
        };
    }

    private Duration duration(Setting s, Duration min) {
        return parse(
                s,
                v -> {
                    Duration d = parseDuration(v);
                    if (d.compareTo(min) < 0)
                        throw new IllegalArgumentException("must be at least " + min.toMillis() + "ms");
                    return d;
                },
                Duration.ZERO);
    }

    /**
     * One regular expression per line (blank lines ignored). Each must compile and must not match the empty string,
     * which would put the mask between every two characters of every event.
     */
    private List<Pattern> patterns(Setting s) {
        List<Pattern> patterns = new ArrayList<>();
        int n = 0;
        for (String line : values.get(s.key()).split("\n")) {
            String p = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
            if (p.isBlank()) continue;
            n++;
            // named by position, never quoted: a pattern may spell the secret it hides
            String which = s.key() + " #" + n + " (flag " + s.flag() + ", env " + s.env() + ")";
            try {
                Pattern compiled = Pattern.compile(p);
                if (compiled.matcher("").matches()) {
                    problems.add(which + " must not match the empty string");
                } else {
                    patterns.add(compiled);
                }
            } catch (PatternSyntaxException e) {
                problems.add(which + " is not a valid regular expression: " + e.getDescription() + " at index "
                        + e.getIndex());
            }
        }
        return patterns;
    }

    private Duration durationIn(Setting s, Duration min, Duration max) {
        return parse(
                s,
                v -> {
                    Duration d = parseDuration(v);
                    if (d.compareTo(min) < 0 || d.compareTo(max) > 0)
                        throw new IllegalArgumentException(
                                "must be from " + min.toMillis() + "ms to " + max.toHours() + "h");
                    return d;
                },
                min);
    }

    /** A duration as settings and flags spell it: 500ms, 30s, 5m, 1h or 7d. */
    public static Duration parseDuration(String v) {
        Matcher m = DURATION.matcher(v.trim());
        if (!m.matches()) throw new IllegalArgumentException("must be a duration such as 500ms, 30s, 5m, 1h or 7d");
        try {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2).toLowerCase(Locale.ROOT)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("is too long a duration");
        }
    }

    /** Longest retention accepted: beyond it a typo (an extra digit or two) is likelier than a wish. */
    public static final Duration MAX_RETENTION = Duration.ofDays(36_500);

    /**
     * A retention period: {@code 0} (keep forever) or a duration from 1m to 36500d. Shorter is refused because it
     * would delete a job's output minutes after it ends, longer because the cutoff would lie before any real job.
     */
    public static Duration parseRetention(String v) {
        String t = v.trim();
        if (t.equals("0")) return Duration.ZERO;
        Duration d;
        try {
            d = parseDuration(t);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "must be 0 (keep forever) or a duration from 1m to 36500d, such as 30d or 12h");
        }
        if (d.compareTo(Duration.ofMinutes(1)) < 0 || d.compareTo(MAX_RETENTION) > 0) {
            throw new IllegalArgumentException("must be 0 (keep forever) or from 1m to 36500d (100 years)");
        }
        return d;
    }

    private <T> T parse(Setting s, Function<String, T> parser, T fallback) {
        String v = values.get(s.key());
        try {
            return parser.apply(v);
        } catch (RuntimeException e) {
            String why = e instanceof NumberFormatException ? "must be a number" : e.getMessage();
            problems.add(s.key() + " " + why + ", was '" + v + "' (flag " + s.flag() + ", env " + s.env() + ")");
            return fallback;
        }
    }
}
