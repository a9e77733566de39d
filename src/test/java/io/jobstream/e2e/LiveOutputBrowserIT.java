package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.Events;
import io.jobstream.testing.HeadlessChromium;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;

/**
 * The real node end to end in a real browser: events posted over HTTP, committed to the embedded PostgreSQL,
 * read by the page by line range over REST, then streamed live over the websocket while the page follows the
 * tail; the status change and the lag gauge show up. Then the jobs list shows the job.
 */
class LiveOutputBrowserIT {
    private static final long JOB = 9;

    @TempDir
    Path dataDir;

    @Test
    void the_job_page_shows_stored_then_live_output_in_order_following_the_tail() throws Exception {
        try (RunningServer server = RunningServer.start(dataDir);
                HeadlessChromium browser = HeadlessChromium.start()) {
            JavascriptExecutor js = (JavascriptExecutor) browser.driver;
            browser.logIn(server.uri("/"));
            assertThat(Http.post(server.uri("/api/v2/job_events/ingest/"), events(1, 100))
                            .statusCode())
                    .isEqualTo(200);
            browser.driver.get(server.uri("/jobs/" + JOB).toString());
            browser.wait.until(d ->
                    d.findElement(By.cssSelector("#conn .conn-state")).getText().equals("open"));
            browser.wait.until(d -> d.findElement(By.id("job-lines")).getText().equals("90")); // 10 quiet events
            List<String> expected = Arrays.asList(Events.expectedText(JOB, 400).split("\n"));
            browser.wait.until(d -> lastLine(js).equals(expected.get(89)));

            // streamed in several requests while the page watches: each appears, in order, at the followed tail
            for (int from = 101; from <= 400; from += 50) {
                String body = events(from, from + 49) + (from + 49 == 400 ? "\n" + Events.eof(JOB, 400) : "");
                assertThat(Http.post(server.uri("/api/v2/job_events/ingest/"), body)
                                .statusCode())
                        .isEqualTo(200);
                int shown = (from + 49) - (from + 49) / 10;
                browser.wait.until(d -> lastLine(js).equals(expected.get(shown - 1)));
                assertThat(atBottom(js)).isTrue();
            }
            browser.wait.until(d -> d.findElement(By.id("job-lines")).getText().equals("360"));
            List<String> rows = lineElements(js);
            int firstNumber = Integer.parseInt(rows.get(0).split("\\|", 2)[0]);
            for (int i = 0; i < rows.size(); i++) {
                assertThat(rows.get(i)).isEqualTo((firstNumber + i) + "|" + expected.get(firstNumber + i - 1));
            }
            assertThat(rows.size()).isLessThan(360); // virtualised: not every line is an element
            browser.wait.until(d -> d.findElement(By.id("job-status")).getText().equals("successful"));
            browser.wait.until(
                    d -> !d.findElement(By.id("gauge-events")).getText().equals("0"));
            assertThat(Double.parseDouble(
                            browser.driver.findElement(By.id("gauge-lag-max")).getText()))
                    .isBetween(0.0, 30.0);
            assertThat(browser.driver.findElement(By.id("gauge-conn")).getText())
                    .isEqualTo("open");
            assertThat(browser.driver.findElements(By.cssSelector("#output span.ansi-fg-2")))
                    .hasSize(rows.size());
            browser.screenshot("real-node-job-page");

            browser.driver.get(server.uri("/").toString());
            browser.wait.until(d -> !d.findElements(By.cssSelector("#jobs tbody tr[data-job-id='" + JOB + "']"))
                    .isEmpty());
            assertThat(browser.driver
                            .findElement(By.cssSelector("#jobs tbody tr"))
                            .getText())
                    .contains("successful", "400");
            browser.screenshot("real-node-jobs-list");

            // 26 more jobs: the list pages by 25, newest first, and filters by status
            String more = IntStream.rangeClosed(101, 126)
                    .mapToObj(j -> Events.event(j, 1))
                    .collect(Collectors.joining("\n"));
            assertThat(Http.post(server.uri("/api/v2/job_events/ingest/"), more).statusCode())
                    .isEqualTo(200);
            browser.wait.until(d -> d.findElement(By.id("page-info")).getText().equals("page 1 of 2 · 27 jobs"));
            assertThat(browser.driver.findElements(By.cssSelector("#jobs tbody tr")))
                    .hasSize(25);
            assertThat(browser.driver
                            .findElement(By.cssSelector("#jobs tbody tr"))
                            .getAttribute("data-job-id"))
                    .isEqualTo("126");
            browser.driver.findElement(By.id("next")).click();
            browser.wait.until(d -> d.findElement(By.id("page-info")).getText().equals("page 2 of 2 · 27 jobs"));
            assertThat(browser.driver.findElements(By.cssSelector("#jobs tbody tr")))
                    .extracting(r -> r.getAttribute("data-job-id"))
                    .containsExactly("101", "9");
            new org.openqa.selenium.support.ui.Select(browser.driver.findElement(By.id("status-filter")))
                    .selectByValue("successful");
            browser.wait.until(d -> d.findElement(By.id("page-info")).getText().equals("page 1 of 1 · 1 jobs"));
            assertThat(browser.driver.findElements(By.cssSelector("#jobs tbody tr")))
                    .extracting(r -> r.getAttribute("data-job-id"))
                    .containsExactly("9");
            assertThat(browser.driver.getCurrentUrl()).endsWith("/?status=successful");
        }
    }

    /** "number|text" of every line element in order, read in one script (the list redraws as lines stream). */
    @SuppressWarnings("unchecked")
    private static List<String> lineElements(JavascriptExecutor js) {
        return (List<String>) js.executeScript("return [...document.querySelectorAll('#output .line')]"
                + ".map(l => l.querySelector('.ln').textContent + '|' + l.querySelector('.tx').textContent)");
    }

    private static String lastLine(JavascriptExecutor js) {
        List<String> rows = lineElements(js);
        return rows.isEmpty() ? "" : rows.get(rows.size() - 1).split("\\|", 2)[1];
    }

    private static boolean atBottom(JavascriptExecutor js) {
        return (Boolean)
                js.executeScript(
                        "const o = document.getElementById('output'); return o.scrollHeight - o.scrollTop - o.clientHeight < 2;");
    }

    private static String events(int from, int to) {
        return IntStream.rangeClosed(from, to)
                .mapToObj(c -> Events.event(JOB, c))
                .collect(Collectors.joining("\n"));
    }
}
