package io.jobstream.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The house rules of STYLE.md §2.1, read from the sources: stages never form a cycle, backends stay in their package,
 * only the server picks implementations (in one class, Backends) and starts the demo.
 */
class PackageDependenciesTest {
    private static final Path SOURCES = Path.of("src/main/java/io/jobstream");
    private static final Pattern IMPORT =
            Pattern.compile("^import (?:static )?([\\w.]+)\\.[\\w*]+;", Pattern.MULTILINE);
    /** package → the external imports (prefixes) seen in it, and the jobstream packages it uses. */
    private static final Map<String, Set<String>> imports = new TreeMap<>();

    private static final Map<String, Set<String>> uses = new TreeMap<>();

    @BeforeAll
    static void readSources() throws IOException {
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = SOURCES.relativize(f.getParent()).toString().replace('/', '.');
                Matcher m = IMPORT.matcher(Files.readString(f));
                while (m.find()) {
                    String imported = m.group(1);
                    imports.computeIfAbsent(pkg, k -> new TreeSet<>()).add(imported);
                    if (imported.startsWith("io.jobstream.")) {
                        String other =
                                imported.substring("io.jobstream.".length()).split("\\.")[0];
                        if (!other.equals(pkg))
                            uses.computeIfAbsent(pkg, k -> new TreeSet<>()).add(other);
                    }
                }
            }
        }
        assertThat(imports).as("sources found").containsKeys("event", "server", "postgres", "demo");
    }

    @Test
    void the_shared_model_config_metrics_limits_and_time_depend_on_no_stage() {
        for (String bottom : List.of("event", "config", "metrics", "limit", "time")) {
            assertThat(uses.getOrDefault(bottom, Set.of())).as(bottom + " uses").isEmpty();
        }
    }

    @Test
    void database_libraries_are_imported_only_in_the_postgres_package() {
        for (Map.Entry<String, Set<String>> e : imports.entrySet()) {
            if (e.getKey().equals("postgres")) continue;
            assertThat(e.getValue())
                    .as("imports of " + e.getKey())
                    .noneMatch(i -> i.startsWith("org.postgresql")
                            || i.startsWith("com.zaxxer")
                            || i.startsWith("org.flywaydb")
                            || i.startsWith("io.zonky"));
        }
    }

    @Test
    void the_redis_client_is_imported_only_in_the_redis_package() {
        for (Map.Entry<String, Set<String>> e : imports.entrySet()) {
            if (e.getKey().equals("redis")) continue;
            assertThat(e.getValue()).as("imports of " + e.getKey()).noneMatch(i -> i.startsWith("redis.clients"));
        }
    }

    @Test
    void packages_form_no_cycle() {
        for (String start : uses.keySet()) {
            Deque<String> todo = new ArrayDeque<>(uses.get(start));
            Set<String> reached = new HashSet<>();
            while (!todo.isEmpty()) {
                String next = todo.pop();
                if (reached.add(next)) todo.addAll(uses.getOrDefault(next, Set.of()));
            }
            assertThat(reached).as("packages reachable from " + start).doesNotContain(start);
        }
    }

    @Test
    void only_the_server_and_cli_know_which_implementations_run() {
        for (Map.Entry<String, Set<String>> e : uses.entrySet()) {
            if (e.getKey().equals("server") || e.getKey().equals("cli")) continue;
            assertThat(e.getValue()).as(e.getKey() + " uses").doesNotContain("server", "cli");
        }
    }

    @Test
    void only_the_server_starts_the_demo_and_no_stage_depends_on_it() {
        for (Map.Entry<String, Set<String>> e : uses.entrySet()) {
            if (e.getKey().equals("server")) continue;
            assertThat(e.getValue()).as(e.getKey() + " uses").doesNotContain("demo");
        }
    }

    @Test
    void in_the_server_only_backends_names_the_memory_or_redis_implementations() throws IOException {
        try (Stream<Path> files = Files.list(SOURCES.resolve("server"))) {
            for (Path f : files.filter(p -> !p.getFileName().toString().equals("Backends.java"))
                    .toList()) {
                assertThat(Files.readString(f))
                        .as(f.toString())
                        .doesNotContain(
                                "io.jobstream.redis.", "MemoryEventQueue", "MemoryBroadcaster", "instanceof Redis");
            }
        }
    }

    @Test
    void the_job_reader_and_the_auth_store_do_not_call_each_other() throws IOException {
        String reader = Files.readString(SOURCES.resolve("postgres/PostgresJobReader.java"));
        String auth = Files.readString(SOURCES.resolve("postgres/PostgresAuthStore.java"));
        assertThat(reader).doesNotContain("PostgresAuthStore");
        assertThat(auth).doesNotContain("PostgresJobReader");
    }
}
