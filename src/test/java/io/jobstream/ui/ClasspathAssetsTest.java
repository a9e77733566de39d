package io.jobstream.ui;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ClasspathAssetsTest {
    private final ClasspathAssets assets = new ClasspathAssets("ui/", getClass().getClassLoader());

    @Test
    void names_that_could_leave_the_folder_are_never_looked_up() {
        assertThat(assets.find("../demo/ansible-runner-events.jsonl.gz")).isEmpty();
        assertThat(assets.find("/etc/passwd")).isEmpty();
        assertThat(assets.find("a//b.js")).isEmpty();
        assertThat(assets.find(".hidden.js")).isEmpty();
    }

    @Test
    void only_known_kinds_of_file_are_served() {
        assertThat(assets.find("job.js")).isPresent();
        assertThat(ClasspathAssets.contentType("x.mjs")).isEqualTo("text/javascript; charset=utf-8");
        assertThat(ClasspathAssets.contentType("x.exe")).isEqualTo("application/octet-stream");
        assertThat(assets.find("job")).isEmpty();
    }

    @Test
    void every_page_script_and_stylesheet_is_in_the_jar() {
        for (String name : new String[] {
            "index.html", "job.html", "app.css", "common.js", "ansi.js", "lag.js", "output.js", "job.js", "jobs.js"
        }) {
            assertThat(assets.find(name)).as(name).isPresent();
        }
    }

    @Test
    void csrf_tokens_are_random_and_url_safe() {
        CsrfCookie csrf = new CsrfCookie(new java.security.SecureRandom());
        String a = csrf.newToken();
        assertThat(a).matches("[A-Za-z0-9_-]{43}").isNotEqualTo(csrf.newToken());
    }
}
