package io.jobstream.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.Events;
import io.jobstream.testing.HeadlessChromium;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import io.jobstream.testing.TrustingClient;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.openqa.selenium.By;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * AWX's debug.js console script, pasted into a page of a TLS node (jQuery present, as in AWX's UI), connects over
 * wss, subscribes to the job typed into its box, and its gauge shows lag numbers while the job streams.
 *
 * <p>The genuine script lives in AWX's job event performance guide; when that guide sits next to this repository
 * (the team's workplace keeps it in ../shared/reference) it is run as it is. A stand-in written for this test, which
 * leans on the page in the same places, runs everywhere (CI's clean clone has no guide).
 */
class DebugScriptBrowserIT {
    private static final long JOB = 31;
    private static final String GUIDE = "shared/reference/000_50b4e3b6d6eaf984.txt";
    private static final String SCRIPT_START = "var s;";

    @TempDir
    Path dir;

    static Stream<String> scripts() throws Exception {
        List<String> scripts = new ArrayList<>();
        scripts.add(new String(
                DebugScriptBrowserIT.class
                        .getResourceAsStream("/awx/debug-gauge.js")
                        .readAllBytes(),
                StandardCharsets.UTF_8));
        guideScript().ifPresent(scripts::add);
        return scripts.stream();
    }

    /** debug.js as the guide prints it: from its first line, {@code var s;}, to the end of the guide. */
    private static Optional<String> guideScript() throws Exception {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            Path guide = p.resolve(GUIDE);
            if (Files.isReadable(guide)) {
                String text = Files.readString(guide);
                int start = text.indexOf(SCRIPT_START);
                return start < 0 ? Optional.empty() : Optional.of(text.substring(start));
            }
        }
        return Optional.empty();
    }

    @ParameterizedTest
    @MethodSource("scripts")
    void debug_script_pasted_into_a_page_shows_lag_over_wss_while_a_job_streams(String script) throws Exception {
        try (RunningServer node = RunningServer.start(dir.resolve("data"), Map.of("tls-self-signed", "true"));
                HeadlessChromium browser = HeadlessChromium.start("--ignore-certificate-errors")) {
            browser.logIn(node.uri("/"));
            browser.driver.get(node.uri("/jobs/" + JOB).toString());
            browser.wait.until(d -> Boolean.TRUE.equals(
                    ((ChromeDriver) d).executeScript("return typeof window.jQuery === 'function'")));
            // the console evaluates in the page's global scope, so its functions become globals (onclick needs that)
            ((ChromeDriver) browser.driver).executeCdpCommand("Runtime.evaluate", Map.of("expression", script));
            browser.wait.until(d -> d.findElement(By.id("wsdebug")).getText().equals("Hello World"));
            browser.driver.findElement(By.id("jobid")).sendKeys(String.valueOf(JOB));
            browser.driver.findElement(By.id("dolisten")).click(); // the inline handler the page's CSP lets through

            AtomicBoolean streaming = new AtomicBoolean(true);
            Thread emitter = new Thread(() -> emit(node, streaming), "emitter");
            emitter.start();
            try {
                browser.wait.until(
                        d -> d.findElement(By.id("wsdebug")).getText().startsWith("Lag "));
                String gauge = browser.driver.findElement(By.id("wsdebug")).getText();
                assertThat(gauge).matches("(?s)Lag avg [0-9.e-]+ stdev [0-9.e-]+ max [0-9]+.*");
                browser.screenshot("debug-script-over-wss");
            } finally {
                streaming.set(false);
                emitter.join();
            }
        }
    }

    /** Posts a few events every 100 ms, as a running job would, until told to stop. */
    private static void emit(RunningServer node, AtomicBoolean streaming) {
        try {
            HttpClient client = TrustingClient.of(node.dataDir().resolve("tls/self-signed.crt"));
            int counter = 0;
            while (streaming.get() && counter < 2000) {
                StringBuilder body = new StringBuilder();
                for (int i = 0; i < 5; i++)
                    body.append(Events.event(JOB, ++counter)).append('\n');
                HttpResponse<String> r = client.send(
                        HttpRequest.newBuilder(node.uri("/api/v2/job_events/ingest/"))
                                .header("Authorization", TestUsers.ADMIN_AUTH)
                                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) throw new AssertionError(r.body());
                Thread.sleep(100); // pacing: the scenario is a job streaming while the page is debugged
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
