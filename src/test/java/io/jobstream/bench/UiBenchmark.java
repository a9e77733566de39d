package io.jobstream.bench;

import io.jobstream.e2e.BigJobBrowserIT;
import io.jobstream.testing.Events;
import io.jobstream.testing.HeadlessChromium;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TempDirs;
import io.jobstream.testing.TestUsers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;

/**
 * The job output page in headless Chromium against a real node (embedded PostgreSQL):
 * <ol>
 *   <li>open: first contentful paint, first stored lines drawn, and interactive (every visible row drawn) for
 *       finished jobs of 10k, 100k and 1M lines (events of 100 lines), by the page's Performance API clock, median of
 *       several loads;</li>
 *   <li>jumps: 50 jumps to random places of the 1M-line job, time until every visible row is drawn;</li>
 *   <li>live: events posted at rising rates (1 line each) while the page follows the tail: frames per second the
 *       page keeps (60 fps target), events/s it shows, websocket lag, and the backlog it ends with.</li>
 * </ol>
 * The page's own script time (sequencing events and drawing frames) is measured by wrapping those two functions, so
 * its share of each second can be told apart from a machine too busy to give the browser its frames.
 * Arguments: [loads=5] [live-seconds-per-rate=5] [rates=1000,5000,10000,20000].
 */
public final class UiBenchmark {
    public static void main(String[] args) throws Exception {
        int loads = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        int liveSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        int[] rates = Arrays.stream((args.length > 2 ? args[2] : "1000,5000,10000,20000").split(","))
                .mapToInt(Integer::parseInt)
                .toArray();
        try (RunningServer server = RunningServer.start(TempDirs.make("jobstream-ui"), Map.of());
                HeadlessChromium browser = HeadlessChromium.start()) {
            WebDriver driver = browser.driver;
            browser.logIn(server.uri("/"));
            JavascriptExecutor js = (JavascriptExecutor) driver;
            driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(60));
            int[][] jobs = {{1, 100}, {2, 1_000}, {3, 10_000}}; // job id, events of 100 lines
            for (int[] j : jobs) {
                long t = System.nanoTime();
                BigJobBrowserIT.ingestBigJob(server, j[0], j[1], 100);
                System.out.printf(
                        "ingested job %d: %,d lines in %.1f s%n", j[0], j[1] * 100, (System.nanoTime() - t) / 1e9);
            }

            System.out.println("\n| lines | first contentful paint (ms) | first lines drawn (ms) | interactive (ms) |");
            System.out.println("|---|---|---|---|");
            for (int[] j : jobs) {
                List<Double> fcp = new ArrayList<>();
                List<Double> first = new ArrayList<>();
                List<Double> ready = new ArrayList<>();
                for (int i = 0; i <= loads; i++) { // load 0 warms the browser's caches and the server's JIT
                    driver.get("about:blank");
                    driver.get(server.uri("/jobs/" + j[0]).toString());
                    browser.wait.until(
                            d -> "true".equals(js.executeScript("return document.body.dataset.ready || ''")));
                    @SuppressWarnings("unchecked")
                    List<Number> m = (List<Number>)
                            js.executeScript(
                                    "const p = performance.getEntriesByName('first-contentful-paint')[0];"
                                            + "const t = window.jobstream.timings; return [p ? p.startTime : -1, t.firstLines, t.interactive];");
                    if (i == 0) continue;
                    fcp.add(m.get(0).doubleValue());
                    first.add(m.get(1).doubleValue());
                    ready.add(m.get(2).doubleValue());
                }
                System.out.printf(
                        "| %,d | %.0f | %.0f | %.0f |%n", j[1] * 100, median(fcp), median(first), median(ready));
            }

            driver.get(server.uri("/jobs/3").toString());
            browser.wait.until(d -> "true".equals(js.executeScript("return document.body.dataset.ready || ''")));
            @SuppressWarnings("unchecked")
            List<Number> jumps = (List<Number>) js.executeAsyncScript(
                    "const done = arguments[arguments.length - 1]; const v = window.jobstream.viewer; const out = [];"
                            + "let seed = 42; const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;"
                            + "(async () => { for (let i = 0; i < 50; i++) {"
                            + "  const t0 = performance.now(); v.scrollToLine(Math.floor(rnd() * 1000000), 'center');"
                            + "  for (;;) { await new Promise(r => requestAnimationFrame(r)); if (v.placeholders === 0 && v.frame === null) break; }"
                            + "  out.push(performance.now() - t0); } done(out); })();");
            List<Double> jumpMs =
                    jumps.stream().map(Number::doubleValue).sorted().toList();
            System.out.printf(
                    "%nJumps in the 1,000,000-line job (50, random): median %.0f ms, p90 %.0f ms, max %.0f ms; "
                            + "line elements in the DOM: %s%n",
                    median(jumpMs),
                    jumpMs.get(44),
                    jumpMs.get(49),
                    js.executeScript("return document.querySelectorAll('#output .line').length"));

            live(server, browser, js, rates, liveSeconds);
        }
    }

    /** One job streamed at each rate in turn while the page follows it; frames counted with requestAnimationFrame. */
    private static void live(
            RunningServer server, HeadlessChromium browser, JavascriptExecutor js, int[] rates, int seconds)
            throws Exception {
        long job = 4;
        HttpClient http = HttpClient.newHttpClient();
        URI ingest = server.uri("/api/v2/job_events/ingest/");
        post(http, ingest, Events.event(job, 1));
        browser.driver.get(server.uri("/jobs/" + job).toString());
        browser.wait.until(d -> "true".equals(js.executeScript("return document.body.dataset.ready || ''")));
        js.executeScript(
                "window.frames_ = 0; const f = () => { window.frames_++; requestAnimationFrame(f); }; requestAnimationFrame(f);"
                        + "window.prof_ = {};"
                        + "const wrap = (o, name, key) => { const orig = o[name].bind(o); o[name] = (...a) => { const t = performance.now();"
                        + "  try { return orig(...a); } finally { window.prof_[key] = (window.prof_[key] || 0) + performance.now() - t; } }; };"
                        + "wrap(window.jobstream.viewer, 'draw', 'draw'); wrap(window.jobstream.sequencer, 'offer', 'offer');");
        Thread.sleep(2000); // a measurement: the idle page's frames are counted over two seconds
        System.out.println("idle frames/s: " + js.executeScript("return window.frames_ / 2"));
        System.out.println(
                "\n| offered events/s | page frames/s | events/s shown | page script ms per s (sequencing + drawing) "
                        + "| lag avg (s) | lag max (s) | backlog at end (events) |");
        System.out.println("|---|---|---|---|---|---|---|");
        int counter = 1;
        for (int rate : rates) {
            int tickMs = 10;
            int perTick = Math.max(1, rate * tickMs / 1000);
            long frames0 = ((Number) js.executeScript("return window.frames_")).longValue();
            long shown0 = ((Number) js.executeScript("return window.jobstream.sequencer.next - 1")).longValue();
            long start = System.nanoTime();
            List<java.util.concurrent.CompletableFuture<?>> posts = new ArrayList<>();
            for (int tick = 0; tick < seconds * 1000 / tickMs; tick++) {
                long wait = start + TimeUnit.MILLISECONDS.toNanos((long) tick * tickMs) - System.nanoTime();
                if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait); // pacing the sender: the benchmark's load
                StringBuilder body = new StringBuilder();
                for (int k = 0; k < perTick; k++)
                    body.append(Events.event(job, ++counter)).append('\n');
                posts.add(http.sendAsync(
                        HttpRequest.newBuilder(ingest)
                                .header("Authorization", TestUsers.ADMIN_AUTH)
                                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                                .build(),
                        HttpResponse.BodyHandlers.discarding()));
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            long frames = ((Number) js.executeScript("return window.frames_")).longValue() - frames0;
            long shown = ((Number) js.executeScript("return window.jobstream.sequencer.next - 1")).longValue();
            @SuppressWarnings("unchecked")
            List<Number> lag = (List<Number>) js.executeScript("return window.jobstream.gauge.window.stats()");
            @SuppressWarnings("unchecked")
            List<Number> script = (List<Number>)
                    js.executeScript("const p = window.prof_; window.prof_ = {}; return [p.offer || 0, p.draw || 0];");
            double scriptMsPerSecond =
                    (script.get(0).doubleValue() + script.get(1).doubleValue()) / elapsed;
            System.out.printf(
                    "| %,d | %.0f | %,.0f | %.0f | %.3f | %.3f | %,d |%n",
                    rate,
                    frames / elapsed,
                    (shown - shown0) / elapsed,
                    scriptMsPerSecond,
                    lag.get(0).doubleValue() / 1000,
                    lag.get(2).doubleValue() / 1000,
                    counter - shown);
            java.util.concurrent.CompletableFuture.allOf(posts.toArray(java.util.concurrent.CompletableFuture[]::new))
                    .get(2, TimeUnit.MINUTES);
            final int last = counter;
            browser.wait
                    .withTimeout(Duration.ofSeconds(60))
                    .until(d -> ((Number) js.executeScript("return window.jobstream.sequencer.next - 1")).intValue()
                            >= last);
        }
    }

    private static void post(HttpClient http, URI uri, String body) throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(uri)
                        .header("Authorization", TestUsers.ADMIN_AUTH)
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200)
            throw new IllegalStateException("ingest answered " + r.statusCode() + ": " + r.body());
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }
}
