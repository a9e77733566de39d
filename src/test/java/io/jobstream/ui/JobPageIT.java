package io.jobstream.ui;

import io.jobstream.testing.HeadlessChromium;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.jobstream.event.Json;
import io.jobstream.event.Timestamps;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The job output page in headless Chromium (Debian's chromium + chromedriver, STACK.md §7).
 *
 * <p>The REST API and websocket behind the page are {@link FakeJobApi}, a stand-in that follows AWX's shapes:
 * the real endpoints are written elsewhere and the end-to-end tests cover the page against them. The tests run in
 * order on one page load, as a user watching one job would see it; screenshots go to target/screenshots/.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class JobPageIT {
    private static final long JOB = 7;
    private static final FakeJobApi API = new FakeJobApi(JOB, "demo: site");
    private static Javalin app;
    private static HeadlessChromium browser;
    private static WebDriver driver;
    private static WebDriverWait wait;

    @BeforeAll
    static void start() throws Exception {
        API.stored.addAll(List.of(
                event(1, "", 0, 0, false),
                event(2, "\r\nPLAY [web] *****", 0, 2, false),
                event(3, "\r\nTASK [ping] *****", 2, 4, false),
                event(4, "\u001b[0;32mok: [web1]\u001b[0m", 4, 5, false),
                event(5, "<script>window.pwned = true</script> & <b>not bold</b>", 5, 6, false),
                event(6, "\u001b[0;31mfatal: [web2]: FAILED! => {\r\n    \"msg\": \"boom\"\r\n}\u001b[0m", 6, 9, true),
                event(7, "\u001b[1;35mignored=1\u001b[0m \u001b[38;5;208morange\u001b[0m \u001b[38;2;10;20;30mtruecolour\u001b[0m", 9, 10, false)));
        app = Javalin.create(cfg -> {
            new UiRoutes().register(cfg.routes);
            API.register(cfg.routes);
        }).start("127.0.0.1", 0);

        browser = HeadlessChromium.start();
        driver = browser.driver;
        wait = browser.wait;
        Files.createDirectories(Path.of("target/screenshots"));
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.close();
        if (app != null) app.stop();
    }

    static ObjectNode event(int counter, String stdout, int start, int end, boolean failed) {
        ObjectNode e = Json.MAPPER.createObjectNode();
        e.put("id", 1000 + counter).put("job", JOB).put("counter", counter).put("event", failed ? "runner_on_failed" : "runner_on_ok")
                .put("stdout", stdout).put("start_line", start).put("end_line", end).put("failed", failed)
                .put("created", Timestamps.format(Instant.now())).put("uuid", "u" + counter);
        return e;
    }

    /** A live event as the websocket sends it, created 250 ms ago so the gauge has a lag to show. */
    static ObjectNode live(int counter, String text) {
        ObjectNode e = event(counter, text, counter + 2, counter + 3, false); // event 7 ended at line 10
        e.put("group_name", "job_events").put("created", Timestamps.format(Instant.now().minusMillis(250)));
        return e;
    }

    private static List<String> lines() {
        return driver.findElements(By.cssSelector("#output .line .tx")).stream().map(WebElement::getText).collect(Collectors.toList());
    }

    private static String text(String id) {
        return driver.findElement(By.id(id)).getText();
    }

    private static void screenshot(String name) throws Exception {
        Files.write(Path.of("target/screenshots", name + ".png"), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    }

    @Test
    @Order(1)
    void the_page_subscribes_with_the_csrftoken_and_shows_stored_lines_in_order() {
        driver.get("http://127.0.0.1:" + app.port() + "/jobs/" + JOB);
        wait.until(ExpectedConditions.textToBe(By.cssSelector("#conn .conn-state"), "open"));
        wait.until(d -> lines().size() == 10);

        assertThat(lines()).containsExactly("", "PLAY [web] *****", "", "TASK [ping] *****", "ok: [web1]",
                "<script>window.pwned = true</script> & <b>not bold</b>",
                "fatal: [web2]: FAILED! => {", "    \"msg\": \"boom\"", "}", "ignored=1 orange truecolour");
        assertThat(driver.findElements(By.cssSelector("#output .ln")).get(4).getText()).isEqualTo("5");
        wait.until(d -> !API.subscriptions.isEmpty());
        JsonNode groups = API.subscriptions.get(0).get("groups");
        assertThat(groups.get("job_events").get(0).asLong()).isEqualTo(JOB);
        assertThat(groups.get("jobs").toString()).contains("status_changed", "summary");
        assertThat(API.errors).isEmpty();
        assertThat(text("job-name")).isEqualTo("demo: site");
        assertThat(text("job-status")).isEqualTo("running");
    }

    @Test
    @Order(2)
    void ansi_colours_become_classed_spans_that_carry_across_the_lines_of_an_event() {
        WebElement ok = driver.findElement(By.cssSelector("#output span.ansi-fg-2"));
        assertThat(ok.getText()).isEqualTo("ok: [web1]");
        assertThat(ok.getCssValue("color")).isEqualTo("rgba(95, 194, 105, 1)");

        List<WebElement> red = driver.findElements(By.cssSelector("#output .line.failed span.ansi-fg-1"));
        assertThat(red).extracting(WebElement::getText).containsExactly("fatal: [web2]: FAILED! => {", "    \"msg\": \"boom\"", "}");

        WebElement ignored = driver.findElement(By.cssSelector("#output span.ansi-bold.ansi-fg-5"));
        assertThat(ignored.getText()).isEqualTo("ignored=1");
        assertThat(ignored.getCssValue("font-weight")).isEqualTo("700");
        assertThat(spanWithText("orange").getCssValue("color")).isEqualTo("rgba(255, 135, 0, 1)");
        assertThat(spanWithText("truecolour").getCssValue("color")).isEqualTo("rgba(10, 20, 30, 1)");
    }

    private static WebElement spanWithText(String text) {
        return driver.findElements(By.cssSelector("#output span")).stream()
                .filter(s -> s.getText().equals(text)).findFirst().orElseThrow();
    }

    @Test
    @Order(3)
    void markup_in_stdout_is_shown_as_text_and_never_runs() {
        assertThat(driver.findElements(By.cssSelector("#output script, #output b"))).isEmpty();
        assertThat(((JavascriptExecutor) driver).executeScript("return window.pwned === undefined")).isEqualTo(true);
    }

    @Test
    @Order(4)
    void live_events_are_merged_in_counter_order_and_a_lasting_gap_is_fetched_by_rest() throws Exception {
        API.push(live(9, "live 9"));
        API.push(live(8, "live 8")); // out of order: 9 waits for 8
        wait.until(d -> lines().size() == 12);
        assertThat(lines().subList(10, 12)).containsExactly("live 8", "live 9");
        assertThat(driver.findElements(By.cssSelector("#output .ln")).get(10).getText()).isEqualTo("11");

        API.stored.add(live(10, "stored 10")); // never sent live: the page must notice the gap and fetch it
        API.push(live(11, "live 11"));
        wait.until(d -> lines().size() == 14);
        assertThat(lines().subList(12, 14)).containsExactly("stored 10", "live 11");
        assertThat(text("job-events")).startsWith("11");
        screenshot("job-page");
    }

    @Test
    @Order(5)
    void the_lag_gauge_shows_the_debug_js_numbers_for_live_events() {
        wait.until(d -> text("gauge-events").equals("3"));
        double avg = Double.parseDouble(text("gauge-lag-avg"));
        double max = Double.parseDouble(text("gauge-lag-max"));
        assertThat(avg).isBetween(0.2, 30.0);
        assertThat(max).isGreaterThanOrEqualTo(avg);
        assertThat(text("gauge-lag-avg")).matches("\\d+\\.\\d{3}");
        assertThat(Double.parseDouble(text("gauge-max-max-max"))).isGreaterThanOrEqualTo(max);
        assertThat(Double.parseDouble(text("gauge-rate"))).isPositive();
    }

    @Test
    @Order(6)
    void status_messages_update_the_header_live() {
        ObjectNode status = Json.MAPPER.createObjectNode();
        status.put("group_name", "jobs").put("unified_job_id", JOB).put("status", "successful").put("type", "job");
        API.pushJobs(status); // the fake's job detail still says running: only the websocket can change the header
        wait.until(ExpectedConditions.textToBe(By.id("job-status"), "successful"));
        API.job.put("status", "successful");
    }

    @Test
    @Order(7)
    void a_dropped_connection_reconnects_and_resubscribes_with_its_last_counter() {
        API.dropConnections();
        wait.until(d -> API.subscriptions.size() == 2);
        wait.until(ExpectedConditions.textToBe(By.cssSelector("#conn .conn-state"), "open"));
        JsonNode again = API.subscriptions.get(1);
        assertThat(again.get("groups").get("job_events").get(0).asLong()).isEqualTo(JOB);
        assertThat(again.get("resume").get(String.valueOf(JOB)).asInt()).isEqualTo(11);
    }

    @Test
    @Order(8)
    void the_jobs_list_links_each_job_to_its_page() throws Exception {
        driver.get("http://127.0.0.1:" + app.port() + "/");
        wait.until(d -> !d.findElements(By.cssSelector("#jobs tbody tr")).isEmpty());
        WebElement row = driver.findElement(By.cssSelector("#jobs tbody tr"));
        assertThat(row.getText()).contains("demo: site", "successful", "0.012 s");
        assertThat(row.findElement(By.cssSelector("a")).getAttribute("href")).endsWith("/jobs/" + JOB);
        wait.until(ExpectedConditions.textToBe(By.cssSelector("#conn .conn-state"), "open"));
        screenshot("jobs-list");
    }

    @Test
    @Order(9)
    void a_recorded_real_run_renders_every_line_and_follows_the_tail() throws Exception {
        API.stored.clear();
        int expectedLines = 0;
        try (var in = new java.util.zip.GZIPInputStream(getClass().getClassLoader().getResourceAsStream("demo/ansible-runner-events.jsonl.gz"));
                var reader = new java.io.BufferedReader(new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                ObjectNode e = (ObjectNode) Json.MAPPER.readTree(line);
                if (!"site".equals(e.path("_fixture_run").asText())) continue;
                e.put("job", JOB);
                API.stored.add(e);
                String stdout = e.path("stdout").asText();
                if (!stdout.isEmpty()) expectedLines += stdout.split("\r\n|\n", -1).length;
            }
        }
        final int total = expectedLines;
        driver.get("http://127.0.0.1:" + app.port() + "/jobs/" + JOB);
        wait.until(d -> driver.findElements(By.cssSelector("#output .line")).size() == total);

        assertThat(text("job-lines")).isEqualTo(String.valueOf(total));
        assertThat(lines().get(total - 1)).contains("web-03").contains("failed=1");
        Object atBottom = ((JavascriptExecutor) driver).executeScript(
                "const o = document.getElementById('output'); return o.scrollHeight - o.scrollTop - o.clientHeight < 40;");
        assertThat(atBottom).isEqualTo(true);
        screenshot("job-page-recorded-run");
    }

    @Test
    @Order(10)
    void a_huge_job_keeps_only_the_last_20000_lines_in_the_page_and_says_so() {
        API.stored.clear();
        int perEvent = 500;
        for (int c = 1; c <= 50; c++) {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < perEvent; i++) out.append(i == 0 ? "" : "\r\n").append("event ").append(c).append(" line ").append(i);
            API.stored.add(event(c, out.toString(), (c - 1) * perEvent, c * perEvent, false));
        }
        driver.get("http://127.0.0.1:" + app.port() + "/jobs/" + JOB);
        wait.until(d -> text("job-lines").equals("25000") && !d.findElement(By.id("trim-notice")).getText().isEmpty());
        JavascriptExecutor js = (JavascriptExecutor) driver;
        wait.until(d -> "event 50 line 499".equals(js.executeScript(
                "const l = document.querySelectorAll('#output .line .tx'); return l[l.length - 1].textContent;")));

        assertThat(js.executeScript("return document.querySelectorAll('#output .line').length")).isEqualTo(20000L);
        assertThat(text("trim-count")).isEqualTo("5000");
        assertThat(js.executeScript("return document.querySelector('#output .line .tx').textContent")).isEqualTo("event 11 line 0");
        assertThat(js.executeScript("return document.querySelector('#output .line .ln').textContent")).isEqualTo("5001");
    }
}
