package io.jobstream.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's headless Chromium driven by Debian's chromedriver (STACK.md §7): explicit binaries ({@link Binaries}: a
 * missing one fails the test), so Selenium Manager never downloads anything; a fresh profile; no background networking (this machine has no internet).
 */
public final class HeadlessChromium implements AutoCloseable {
    public final WebDriver driver;
    public final WebDriverWait wait;
    private final ChromeDriverService service;

    private HeadlessChromium(ChromeDriverService service, WebDriver driver) {
        this.service = service;
        this.driver = driver;
        this.wait = new WebDriverWait(driver, Duration.ofSeconds(15));
    }

    /** @param extraArguments more Chromium switches, e.g. {@code --ignore-certificate-errors} for a self-signed node */
    public static HeadlessChromium start(String... extraArguments) throws IOException {
        Path profile = TempDirs.make("chrome-profile");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(Binaries.chromedriver().toFile())
                .usingAnyFreePort()
                .build();
        ChromeOptions o = new ChromeOptions();
        o.setBinary(Binaries.chromium().toFile());
        o.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--user-data-dir=" + profile,
                "--window-size=1280,900");
        o.addArguments(extraArguments);
        return new HeadlessChromium(service, new ChromeDriver(service, o));
    }

    /** Logs in on the node's login page as the test admin; the browser then holds the session cookie. */
    public void logIn(java.net.URI node) {
        logIn(node, TestUsers.ADMIN, TestUsers.ADMIN_PASSWORD);
    }

    public void logIn(java.net.URI node, String user, String password) {
        driver.get(node.resolve("/login/").toString());
        driver.findElement(org.openqa.selenium.By.id("username")).sendKeys(user);
        driver.findElement(org.openqa.selenium.By.id("password")).sendKeys(password);
        driver.findElement(org.openqa.selenium.By.id("submit")).click();
        wait.until(d -> !d.getCurrentUrl().contains("/login/"));
    }

    /** Saves a PNG of the page to target/screenshots/NAME.png, for a person to look at. */
    public void screenshot(String name) throws IOException {
        Path dir = Files.createDirectories(Path.of("target/screenshots"));
        Files.write(dir.resolve(name + ".png"), ((TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES));
    }

    @Override
    public void close() {
        driver.quit();
        service.stop();
    }
}
