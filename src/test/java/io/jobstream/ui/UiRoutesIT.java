package io.jobstream.ui;

import static org.assertj.core.api.Assertions.assertThat;

import io.javalin.Javalin;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The UI's routes on a real Javalin (port 0), fetched with the JDK client. */
class UiRoutesIT {
    private static Javalin app;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        app = Javalin.create(cfg -> new UiRoutes().register(cfg.routes)).start("127.0.0.1", 0);
    }

    @AfterAll
    static void stop() {
        app.stop();
    }

    private static HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.port() + path));
        if (headers.length > 0) b.headers(headers);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Jetty may drop the space before the charset parameter; both spellings mean the same. */
    private static String contentType(HttpResponse<String> r) {
        return r.headers().firstValue("Content-Type").orElse("").replace(" ", "");
    }

    @Test
    void pages_set_a_script_readable_lax_csrftoken_cookie_when_the_browser_has_none() throws Exception {
        HttpResponse<String> r = get("/");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(contentType(r)).isEqualTo("text/html;charset=utf-8");
        String cookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(cookie)
                .matches("csrftoken=[A-Za-z0-9_-]{43};.*")
                .contains("Path=/")
                .containsIgnoringCase("SameSite=Lax");
        assertThat(cookie).doesNotContainIgnoringCase("HttpOnly");
        assertThat(r.headers().firstValue("Content-Security-Policy")).hasValue(UiRoutes.PAGE_CSP);
        assertThat(r.body()).contains("/static/jobs.js");
    }

    @Test
    void a_browser_that_already_holds_a_csrftoken_keeps_it() throws Exception {
        HttpResponse<String> r = get("/jobs/7", "Cookie", "csrftoken=abcdefghijklmnopqrstuvwxyz012345");

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Set-Cookie")).isEmpty();
        assertThat(r.body()).contains("/static/job.js");
    }

    @Test
    void job_pages_exist_only_for_numeric_ids() throws Exception {
        assertThat(get("/jobs/abc").statusCode()).isEqualTo(404);
        assertThat(get("/jobs/0").statusCode()).isEqualTo(404);
        assertThat(get("/jobs/abc/hosts").statusCode()).isEqualTo(404);
        assertThat(get("/jobs/0/timeline").statusCode()).isEqualTo(404);
        assertThat(get("/jobs/7/compare/x").statusCode()).isEqualTo(404);
        assertThat(get("/jobs/x/compare/7").statusCode()).isEqualTo(404);
        assertThat(get("/jobs/7/compare/99999999999999999999").statusCode()).isEqualTo(404);
    }

    @Test
    void the_pages_that_explain_a_run_are_served_with_their_scripts() throws Exception {
        assertThat(get("/jobs/7/hosts").body()).contains("/static/hosts.js");
        assertThat(get("/jobs/7/timeline").body()).contains("/static/timeline.js");
        assertThat(get("/jobs/7/compare/").body()).contains("/static/compare.js");
        HttpResponse<String> compare = get("/jobs/7/compare/6");
        assertThat(compare.statusCode()).isEqualTo(200);
        assertThat(compare.headers().firstValue("Content-Security-Policy")).hasValue(UiRoutes.PAGE_CSP);
        assertThat(compare.body()).contains("/static/compare.js");
    }

    @Test
    void static_assets_carry_their_content_type_and_revalidate_with_an_etag() throws Exception {
        HttpResponse<String> js = get("/static/job.js");
        assertThat(js.statusCode()).isEqualTo(200);
        assertThat(contentType(js)).isEqualTo("text/javascript;charset=utf-8");
        assertThat(js.headers().firstValue("Cache-Control")).hasValue("no-cache");
        String etag = js.headers().firstValue("ETag").orElseThrow();

        HttpResponse<String> again = get("/static/job.js", "If-None-Match", etag);
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.body()).isEmpty();

        assertThat(contentType(get("/static/app.css"))).isEqualTo("text/css;charset=utf-8");
    }

    @Test
    void nothing_outside_the_ui_folder_or_of_an_unknown_kind_is_served() throws Exception {
        assertThat(get("/static/nope.js").statusCode()).isEqualTo(404);
        assertThat(get("/static/..%2Fdb%2Fmigration%2FV1__schema.sql").statusCode())
                .isEqualTo(404);
        assertThat(get("/static/%2E%2E/demo/ansible-runner-events.jsonl.gz").statusCode())
                .isEqualTo(404);
        assertThat(get("/static/").statusCode()).isEqualTo(404);
    }
}
