package io.jobstream.diagnosis;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.event.Timestamps;
import io.jobstream.testing.Events;
import io.jobstream.testing.HeadlessChromium;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.WebDriverWait;

/** The job page's gauge turns red on a lagging job and says, from the node's diagnosis, where the lag comes from. */
class DoctorBrowserIT {
    private static final long JOB = 31;

    @TempDir
    Path dataDir;

    @Test
    void a_red_gauge_says_in_words_where_the_lag_comes_from() throws Exception {
        try (RunningServer server = RunningServer.start(dataDir);
                HeadlessChromium browser = HeadlessChromium.start()) {
            browser.logIn(server.uri("/"));
            assertThat(Http.post(server.uri("/api/v2/job_events/ingest/"), Events.event(JOB, 1))
                            .statusCode())
                    .isEqualTo(200);
            browser.driver.get(server.uri("/jobs/" + JOB).toString());
            browser.wait.until(d ->
                    d.findElement(By.cssSelector("#conn .conn-state")).getText().equals("open"));
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger counter = new AtomicInteger(1);
            Thread emitter = new Thread(() -> {
                while (running.get()) { // events made 4 s before they are sent: the emitter is late
                    StringBuilder body = new StringBuilder();
                    String created =
                            "\"created\":\"" + Timestamps.format(Instant.now().minusSeconds(4)) + "\"";
                    for (int i = 0; i < 10; i++) {
                        body.append(Events.event(JOB, counter.incrementAndGet())
                                        .replaceFirst("\"created\":\"[^\"]*\"", created))
                                .append('\n');
                    }
                    Http.post(server.uri("/api/v2/job_events/ingest/"), body.toString());
                    try {
                        Thread.sleep(200);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            emitter.start();
            try {
                WebDriverWait wait = new WebDriverWait(browser.driver, Duration.ofSeconds(45));
                wait.until(
                        d -> d.findElement(By.id("gauge")).getAttribute("class").contains("lagging"));
                wait.until(d -> {
                    var found = d.findElements(By.id("gauge-reason"));
                    return !found.isEmpty()
                            && found.get(0).getText().contains("events arrive late from their emitters");
                });
                WebElement reason = browser.driver.findElement(By.id("gauge-reason"));
                assertThat(reason.getText()).startsWith("Lag comes from: events arrive late");
                browser.screenshot("job-page-lag-reason");
            } finally {
                running.set(false);
                emitter.interrupt();
                emitter.join(10_000);
            }
        }
    }
}
