package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.jobstream.testing.Events;
import io.jobstream.testing.HeadlessChromium;
import io.jobstream.testing.Http;
import io.jobstream.testing.NodeDatabase;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;

/** Issue 17: the page of a job whose events retention deleted says so, with the job's summary, instead of nothing. */
class ExpiredJobBrowserIT {
    @TempDir
    Path dataDir;

    @Test
    void the_page_of_an_expired_job_says_its_output_was_deleted_and_keeps_its_summary() throws Exception {
        try (RunningServer server = RunningServer.start(dataDir);
                HeadlessChromium browser = HeadlessChromium.start()) {
            StringBuilder body = new StringBuilder();
            for (int c = 1; c <= 40; c++) body.append(Events.event(2001, c)).append('\n');
            body.append(Events.eof(2001, 40)).append('\n');
            assertThat(Http.post(server.uri("/api/v2/job_events/ingest/"), body.toString())
                            .statusCode())
                    .isEqualTo(200);
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> Http.getJson(server.uri("/api/v2/jobs/2001/"))
                            .path("status")
                            .asText()
                            .equals("successful"));
            NodeDatabase.sql(dataDir, "UPDATE job SET finished = now() - interval '60 days' WHERE id = 2001");
            HttpResponse<String> cleanup = Http.postJson(
                    server.uri("/api/v2/storage/cleanup/"), "{\"events_older_than\": \"30d\"}", TestUsers.ADMIN_AUTH);
            assertThat(cleanup.statusCode()).as(cleanup.body()).isEqualTo(200);
            assertThat(cleanup.body()).contains("\"jobs_events_expired\":1");

            browser.logIn(server.uri("/"));
            browser.driver.get(server.uri("/jobs/2001").toString());
            browser.wait.until(d -> !d.findElements(By.id("events-expired")).isEmpty());
            assertThat(browser.driver.findElement(By.id("events-expired")).getText())
                    .contains("deleted by retention")
                    .contains("40 events");
            browser.wait.until(
                    d -> d.findElement(By.cssSelector("#job-status")).getText().contains("successful"));
            assertThat(browser.driver.findElement(By.id("error")).isDisplayed()).isFalse();
        }
    }
}
