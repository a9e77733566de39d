package io.jobstream.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.jobstream.testing.Events;
import io.jobstream.testing.HeadlessChromium;
import io.jobstream.testing.Http;
import io.jobstream.testing.RunningServer;
import io.jobstream.testing.TestUsers;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.StaleElementReferenceException;

/** A person in real headless Chromium: job page → login page → the job page again, live over the websocket. */
class LoginBrowserIT {
    private static final long JOB = 4242;

    @TempDir
    Path dataDir;

    @Test
    void a_person_is_sent_to_the_login_page_and_back_to_the_job_whose_output_then_streams_live() throws Exception {
        try (RunningServer server = RunningServer.start(dataDir);
                HeadlessChromium browser = HeadlessChromium.start()) {
            assertThat(Http.post(server.uri("/api/v2/job_events/ingest/"), Events.event(JOB, 1))
                            .statusCode())
                    .isEqualTo(200);
            browser.driver.get(server.uri("/jobs/" + JOB).toString());
            browser.wait.until(d -> d.getCurrentUrl().contains("/login/?next="));

            browser.driver.findElement(By.id("username")).sendKeys("admin");
            browser.driver.findElement(By.id("password")).sendKeys("wrong");
            browser.driver.findElement(By.id("submit")).click();
            // the form may re-render while the answer arrives: an element found just before is then stale, not absent
            browser.wait
                    .ignoring(StaleElementReferenceException.class)
                    .until(d -> d.findElement(By.id("login-error")).isDisplayed());
            assertThat(browser.driver.manage().getCookieNamed("sessionid")).isNull();

            browser.driver.findElement(By.id("username")).clear();
            browser.driver.findElement(By.id("username")).sendKeys("admin");
            browser.driver.findElement(By.id("password")).sendKeys(TestUsers.ADMIN_PASSWORD);
            browser.driver.findElement(By.id("submit")).click();
            browser.wait.until(d -> d.getCurrentUrl().endsWith("/jobs/" + JOB));
            Cookie session = browser.driver.manage().getCookieNamed("sessionid");
            assertThat(session.isHttpOnly()).isTrue();
            assertThat(session.getSameSite()).isEqualTo("Lax");

            // the websocket handshake carries the session cookie: the page goes live and shows new events
            browser.wait.until(d ->
                    d.findElement(By.cssSelector("#conn .conn-state")).getText().equals("open"));
            assertThat(Http.post(server.uri("/api/v2/job_events/ingest/"), Events.event(JOB, 2))
                            .statusCode())
                    .isEqualTo(200);
            browser.wait.until(d -> d.findElement(By.id("output")).getText().contains("job " + JOB + " line 2 ok"));
            browser.screenshot("logged-in-job-page");

            browser.driver.findElement(By.id("logout")).click();
            browser.wait.until(d -> d.getCurrentUrl().contains("/login/"));
            browser.driver.get(server.uri("/").toString());
            browser.wait.until(d -> d.getCurrentUrl().contains("/login/?next=%2F"));
        }
    }
}
