package io.jobstream.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobstream.event.Json;
import io.jobstream.testing.Binaries;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RedisServer;
import io.jobstream.testing.RunningServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Monitoring as code (SPEC §12): the Prometheus rules pass {@code promtool check rules} (Debian's prometheus
 * package; a missing promtool fails the test), and every metric the rules and the Grafana dashboard query exists on
 * a running node's {@code /metrics}, embedded and in cluster mode, so a renamed meter breaks the build, not the
 * operator's 3 a.m. page.
 */
class MonitoringAsCodeIT {
    static final Path RULES = Path.of("docs/prometheus/jobstream-rules.yml");
    static final Path DASHBOARD = Path.of("docs/grafana/jobstream.json");
    static final Path RULE_TESTS =
            Path.of("docs/prometheus/jobstream-rules.test.yml").toAbsolutePath();
    /** Series Prometheus makes itself, not the node. */
    private static final Set<String> PROMETHEUS_OWN = Set.of("up");

    private static final Set<String> PROMQL_WORDS = Set.of(
            "by",
            "without",
            "on",
            "ignoring",
            "group_left",
            "group_right",
            "offset",
            "bool",
            "and",
            "or",
            "unless",
            "inf",
            "nan");
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w$.])[a-zA-Z_:][\\w:]*+(?!\\s*\\()");

    @TempDir
    Path dir;

    @Test
    void promtool_accepts_the_alert_rules() throws Exception {
        Process p = new ProcessBuilder(Binaries.promtool().toString(), "check", "rules", RULES.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("SUCCESS");
    }

    @Test
    void the_alerts_fire_on_the_series_that_should_fire_them_in_promtools_rule_tests() throws Exception {
        Process p = new ProcessBuilder(
                        Binaries.promtool().toString(),
                        "test",
                        "rules",
                        RULE_TESTS.getFileName().toString())
                .directory(RULE_TESTS.getParent().toFile())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("SUCCESS");
    }

    @Test
    void the_rules_alert_on_lag_queue_persist_relay_nodes_and_redis_durability() throws IOException {
        String rules = Files.readString(RULES);
        for (String metric : List.of(
                "event_hop_seconds_bucket",
                "queue_depth",
                "queue_capacity",
                "persist_failures_total",
                "broadcast_relay_failures_total",
                "up{",
                "redis_ack_durability")) {
            assertThat(rules).contains(metric);
        }
    }

    @Test
    void the_dashboard_has_a_panel_per_hop_and_stage_and_a_node_variable() throws IOException {
        JsonNode dashboard = Json.MAPPER.readTree(DASHBOARD.toFile());
        String all = dashboard.toString();
        for (String hop : List.of(
                "created_received",
                "received_committed",
                "committed_published",
                "published_written",
                "created_written")) {
            assertThat(all).contains("hop=\\\"" + hop + "\\\"");
        }
        for (String metric : List.of(
                "queue_depth",
                "persist_batch_size",
                "persist_batch_duration_seconds",
                "ws_subscribers",
                "ws_outbox_depth",
                "ws_catchups_total",
                "events_rejected_total",
                "broadcast_relay_published_total")) {
            assertThat(all).contains(metric);
        }
        assertThat(dashboard.path("templating").path("list").findValuesAsText("name"))
                .contains("instance");
        for (String expr : dashboardQueries()) assertThat(expr).contains("instance");
        // Grafana's grid: 24 columns, and panel ids unique (a duplicate id makes Grafana drop or mix panels)
        Set<Integer> ids = new TreeSet<>();
        for (JsonNode panel : dashboard.path("panels")) {
            assertThat(ids.add(panel.path("id").asInt()))
                    .as("unique id " + panel.path("id"))
                    .isTrue();
            JsonNode grid = panel.path("gridPos");
            assertThat(grid.path("x").asInt() + grid.path("w").asInt())
                    .as(panel.path("title").asText())
                    .isLessThanOrEqualTo(24);
            if (panel.path("type").asText().equals("timeseries")) {
                assertThat(panel.path("targets"))
                        .as(panel.path("title").asText())
                        .isNotEmpty();
                assertThat(panel.path("description").asText())
                        .as(panel.path("title").asText())
                        .isNotBlank();
            }
        }
    }

    @Test
    void every_metric_the_dashboard_and_rules_use_exists_on_an_embedded_node() throws IOException {
        Set<String> used = usedMetrics();
        try (RunningServer node = RunningServer.start(dir.resolve("embedded"))) {
            Set<String> exposed = exposedAfterSomeTraffic(node);
            Set<String> missing = new TreeSet<>(used);
            missing.removeAll(exposed);
            // the relay and Redis meters exist only where there is a Redis: those panels stay empty on one node
            assertThat(missing).allMatch(MonitoringAsCodeIT::clusterOnly);
            assertThat(used).filteredOn(MonitoringAsCodeIT::clusterOnly).isNotEmpty();
        }
    }

    @Test
    void every_metric_the_dashboard_and_rules_use_exists_on_a_cluster_node() throws IOException {
        Set<String> used = usedMetrics();
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"), true);
                RunningServer node = RunningServer.start(dir.resolve("cluster"), Map.of("redis-url", redis.url()))) {
            Set<String> exposed = exposedAfterSomeTraffic(node);
            assertThat(exposed).contains("redis_stream_length"); // it is a cluster node
            Set<String> missing = new TreeSet<>(used);
            missing.removeAll(exposed);
            assertThat(missing)
                    .as("used by the dashboard or rules, absent from /metrics")
                    .isEmpty();
        }
    }

    @Test
    void metric_names_are_read_from_promql_without_functions_labels_or_keywords() {
        assertThat(metrics("histogram_quantile(0.99, sum by (instance, le) (rate(event_hop_seconds_bucket{job=\"x\","
                        + " hop=\"a b\"}[5m]))) > 2"))
                .containsExactly("event_hop_seconds_bucket");
        assertThat(metrics("count by (job) (up{job=\"jobstream\"} offset 1h) > count(up)"))
                .containsExactly("up");
        assertThat(metrics("max by (instance) (queue_depth{instance=~\"$instance\"}) / on(instance) queue_capacity"))
                .containsExactly("queue_capacity", "queue_depth");
        assertThat(metrics("label_values(queue_depth, instance)")).containsExactly("queue_depth");
    }

    private static boolean clusterOnly(String metric) {
        return metric.startsWith("redis_") || metric.startsWith("broadcast_relay_");
    }

    /** The node's series names, after an event and a rejected line (meters with a reason tag appear on first use). */
    private static Set<String> exposedAfterSomeTraffic(RunningServer node) {
        String body = Events.event(5, 1) + "\n{not json\n" + Events.eof(5, 1) + "\n";
        assertThat(Http.post(node.uri("/api/v2/job_events/ingest/"), body).statusCode())
                .isEqualTo(200);
        Set<String> names = new TreeSet<>();
        for (String line : Http.get(node.uri("/metrics")).body().split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            Matcher m = Pattern.compile("^[a-zA-Z_:][\\w:]*").matcher(line);
            if (m.find()) names.add(m.group());
        }
        return names;
    }

    /** Every metric name in the rules' expressions and the dashboard's queries, less Prometheus's own. */
    static Set<String> usedMetrics() throws IOException {
        Set<String> used = new TreeSet<>();
        for (String expr : ruleExpressions()) used.addAll(metrics(expr));
        for (String expr : dashboardQueries()) used.addAll(metrics(expr));
        used.removeAll(PROMETHEUS_OWN);
        assertThat(used).as("metrics found in the rules and dashboard").hasSizeGreaterThan(20);
        return used;
    }

    /** The {@code expr:} values of the rules file, inline or as a block scalar. */
    static List<String> ruleExpressions() throws IOException {
        List<String> lines = Files.readAllLines(RULES);
        List<String> exprs = new ArrayList<>();
        Pattern expr = Pattern.compile("^(\\s*)expr:\\s*(.*)$");
        for (int i = 0; i < lines.size(); i++) {
            Matcher m = expr.matcher(lines.get(i));
            if (!m.matches()) continue;
            String value = m.group(2).trim();
            if (!value.startsWith("|") && !value.startsWith(">")) {
                exprs.add(value);
                continue;
            }
            StringBuilder block = new StringBuilder();
            int indent = m.group(1).length();
            while (i + 1 < lines.size()
                    && (lines.get(i + 1).isBlank()
                            || lines.get(i + 1).length()
                                            - lines.get(i + 1).stripLeading().length()
                                    > indent)) {
                block.append(lines.get(++i)).append('\n');
            }
            exprs.add(block.toString());
        }
        assertThat(exprs).as("expressions in " + RULES).hasSizeGreaterThan(5);
        return exprs;
    }

    /** The dashboard's PromQL: each target's {@code expr} and each template variable's query. */
    static List<String> dashboardQueries() throws IOException {
        JsonNode dashboard = Json.MAPPER.readTree(DASHBOARD.toFile());
        List<String> queries = new ArrayList<>(dashboard.findValuesAsText("expr"));
        for (JsonNode v : dashboard.path("templating").path("list")) {
            if (v.path("type").asText().equals("query"))
                queries.add(v.path("definition").asText());
        }
        assertThat(queries).as("queries in " + DASHBOARD).hasSizeGreaterThan(20);
        return queries;
    }

    /** The metric names of one PromQL expression: identifiers that are not functions, labels, keywords or ranges. */
    static Set<String> metrics(String promql) {
        String s = promql.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"") // strings
                .replaceAll("\\{[^}]*}", "") // label matchers
                .replaceAll("\\[[^]]*]", "") // ranges
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", "")
                .replaceAll("label_values\\(\\s*([a-zA-Z_:][\\w:]*)\\s*,[^)]*\\)", "$1");
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            if (!PROMQL_WORDS.contains(m.group().toLowerCase(java.util.Locale.ROOT))) names.add(m.group());
        }
        return names;
    }
}
