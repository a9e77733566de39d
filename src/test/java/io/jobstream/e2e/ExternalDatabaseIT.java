package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.postgres.EmbeddedDatabase;
import io.jobstream.testing.Events;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --database-url}: a PostgreSQL the node did not start (here a separately started server) is migrated and used. */
class ExternalDatabaseIT {
    @TempDir
    Path dir;

    @Test
    void a_node_with_database_url_migrates_and_stores_there_and_starts_no_embedded_server() throws Exception {
        try (EmbeddedDatabase external = new EmbeddedDatabase(dir.resolve("external"), RunningServer.PG_BINARIES)) {
            String url = external.start(); // postgresql://jobstream:<password>@127.0.0.1:PORT/postgres
            Path nodeData = dir.resolve("node");
            try (RunningServer node = RunningServer.start(nodeData, Map.of("database-url", url))) {
                assertThat(Http.post(
                                        node.uri("/api/v2/job_events/ingest/"),
                                        Events.event(4, 1) + "\n" + Events.eof(4, 1))
                                .statusCode())
                        .isEqualTo(200);
                assertThat(Http.getJson(node.uri("/api/v2/jobs/4/"))
                                .path("event_processing_finished")
                                .asBoolean())
                        .isTrue();
            }
            assertThat(Files.exists(nodeData.resolve("pg")))
                    .as("no embedded data directory")
                    .isFalse();
            try (RunningServer again = RunningServer.start(dir.resolve("other"), Map.of("database-url", url))) {
                assertThat(Http.getJson(again.uri("/api/v2/jobs/4/job_events/"))
                                .path("count")
                                .asInt())
                        .isEqualTo(1);
            }
        }
    }
}
