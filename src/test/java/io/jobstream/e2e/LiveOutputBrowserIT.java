package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.Events;
import io.jobstream.testing.HeadlessChromium;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The real node end to end in a real browser: events posted over HTTP, committed to the embedded PostgreSQL,
 * loaded by the page over REST, then streamed live over the websocket, shown in order with the lag gauge moving.
 */
class LiveOutputBrowserIT {
    private static final long JOB = 9;

    @TempDir
    Path dataDir;

    @Test
    void the_job_page_shows_stored_then_live_output_in_order_with_lag_numbers() throws Exception {
        try (RunningServer server = RunningServer.start(dataDir); HeadlessChromium browser = HeadlessChromium.start()) {
            assertThat(Http.post(server.uri("/api/v2/job_events/ingest/"), events(1, 100)).statusCode()).isEqualTo(200);
            browser.driver.get(server.uri("/jobs/" + JOB).toString());
            browser.wait.until(d -> d.findElement(By.cssSelector("#conn .conn-state")).getText().equals("open"));
            browser.wait.until(d -> lines(browser).size() == 90); // counters 1..100 without the 10 quiet ones

            assertThat(Http.post(server.uri("/api/v2/job_events/ingest/"), events(101, 200) + "\n" + Events.eof(JOB, 200))
                    .statusCode()).isEqualTo(200);
            browser.wait.until(d -> lines(browser).size() == 180);
            assertThat(lines(browser)).isEqualTo(List.of(Events.expectedText(JOB, 200).split("\n")));
            browser.wait.until(d -> d.findElement(By.id("job-status")).getText().equals("successful"));
            browser.wait.until(d -> !d.findElement(By.id("gauge-events")).getText().equals("0"));
            assertThat(Double.parseDouble(browser.driver.findElement(By.id("gauge-lag-max")).getText())).isBetween(0.0, 30.0);
            assertThat(browser.driver.findElements(By.cssSelector("#output span.ansi-fg-2"))).hasSize(180);
            browser.screenshot("real-node-job-page");
        }
    }

    private static List<String> lines(HeadlessChromium browser) {
        return browser.driver.findElements(By.cssSelector("#output .line .tx")).stream().map(WebElement::getText)
                .collect(Collectors.toList());
    }

    private static String events(int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(c -> Events.event(JOB, c)).collect(Collectors.joining("\n"));
    }
}
