package dev.steelyard.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Headless Chromium for the console's browser tests: the system's {@code chromium} and
 * {@code chromedriver} (env {@value #CHROMIUM} and {@value #CHROMEDRIVER}, else {@code PATH}),
 * both given to Selenium explicitly so that Selenium Manager has nothing to look up or
 * download. Without them the tests skip with one line; with {@value #REQUIRE} set (as
 * {@code .ci/run} does) they fail instead.
 */
final class ConsoleBrowser implements AutoCloseable {

  static final String CHROMIUM = "STEELYARD_CHROMIUM";
  static final String CHROMEDRIVER = "STEELYARD_CHROMEDRIVER";
  static final String REQUIRE = "STEELYARD_REQUIRE_BROWSER";
  static final String HOW_TO_GET = "set " + CHROMIUM + " and " + CHROMEDRIVER
      + ", or put them on PATH (Debian: apt-get install chromium chromium-driver)";
  static final Path SCREENSHOTS = Path.of("target", "console-screenshots");
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static boolean reported;
  /**
   * Selenium looks for a DevTools binding of this Chromium's version and warns when it has none;
   * the tests use WebDriver only. Held here so the logger's level is not collected away.
   */
  private static final java.util.logging.Logger DEVTOOLS_LOG = quiet("org.openqa.selenium.devtools");

  final ChromeDriver driver;
  private final Path profile;

  private ConsoleBrowser(ChromeDriver driver, Path profile) {
    this.driver = driver;
    this.profile = profile;
  }

  /** A fresh headless browser, or the test class is skipped (or failed, see above). */
  static ConsoleBrowser startOrSkip() throws IOException {
    Optional<Path> chromium = find(CHROMIUM, "chromium", "chromium-browser");
    Optional<Path> chromedriver = find(CHROMEDRIVER, "chromedriver");
    if (chromium.isEmpty() || chromedriver.isEmpty()) {
      skip(missing(chromium, CHROMIUM, "chromium") + missing(chromedriver, CHROMEDRIVER,
          "chromedriver"));
    }
    Path profile = Files.createTempDirectory("steelyard-chromium-");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium.get().toFile());
    options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1280,900");
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(chromedriver.get().toFile()).usingAnyFreePort().build();
    return new ConsoleBrowser(new ChromeDriver(service, options), profile);
  }

  private static java.util.logging.Logger quiet(String name) {
    java.util.logging.Logger logger = java.util.logging.Logger.getLogger(name);
    logger.setLevel(java.util.logging.Level.SEVERE);
    return logger;
  }

  private static String missing(Optional<Path> found, String env, String name) {
    if (found.isPresent()) {
      return "";
    }
    String given = System.getenv(env);
    return given != null && !given.isBlank()
        ? env + "=" + given + " is not an executable file; "
        : "no " + name + " on PATH; ";
  }

  private static void skip(String what) {
    String why = "SKIPPED browser tests: " + what + HOW_TO_GET;
    if ("1".equals(System.getenv(REQUIRE))) {
      fail("browser tests cannot run, and " + REQUIRE + "=1 makes that a failure: " + what
          + HOW_TO_GET);
    }
    synchronized (ConsoleBrowser.class) {
      if (!reported) {
        System.err.println(why);
        reported = true;
      }
    }
    Assumptions.abort(why);
  }

  private static Optional<Path> find(String env, String... names) {
    String given = System.getenv(env);
    if (given != null && !given.isBlank()) {
      Path path = Path.of(given);
      return Files.isExecutable(path) ? Optional.of(path) : Optional.empty();
    }
    String pathVariable = Optional.ofNullable(System.getenv("PATH")).orElse("");
    for (String name : names) {
      for (String dir : pathVariable.split(java.io.File.pathSeparator)) {
        Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
        if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
          return Optional.of(candidate);
        }
      }
    }
    return Optional.empty();
  }

  /** Loads the page afresh (the same URL again would only be a fragment navigation). */
  void open(String url) {
    driver.get("about:blank");
    driver.get(url);
    waitFor(ExpectedConditions.attributeToBe(By.tagName("body"), "data-ready", "true"));
  }

  WebElement visible(String css) {
    return wait(WAIT).until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector(css)));
  }

  WebElement clickable(String css) {
    return wait(WAIT).until(ExpectedConditions.elementToBeClickable(By.cssSelector(css)));
  }

  /**
   * Clicks the element once it is clickable. The pages re-render a panel when what it shows
   * changes (a flow moving on), so the element found may be replaced before the click lands:
   * then it is found again.
   */
  void click(String css) {
    wait(WAIT).ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(d -> {
      WebElement element = ExpectedConditions.elementToBeClickable(By.cssSelector(css)).apply(d);
      if (element == null) {
        return false;
      }
      element.click();
      return true;
    });
  }

  /** Waits until the element's text contains {@code text}, and returns that text. */
  String textContains(String css, String text) {
    try {
      wait(WAIT).until(ExpectedConditions.textToBePresentInElementLocated(By.cssSelector(css),
          text));
    } catch (org.openqa.selenium.TimeoutException e) {
      throw new AssertionError("no '" + text + "' in " + css + "; the page shows:\n"
          + driver.findElement(By.tagName("body")).getText(), e);
    }
    return driver.findElement(By.cssSelector(css)).getText();
  }

  <T> T waitFor(org.openqa.selenium.support.ui.ExpectedCondition<T> condition) {
    return wait(WAIT).until(condition);
  }

  WebDriverWait wait(Duration timeout) {
    return new WebDriverWait(driver, timeout, Duration.ofMillis(100));
  }

  /** Replaces an input's value as a user would: select all, type. */
  void type(String css, String text) {
    WebElement input = clickable(css);
    input.clear();
    input.sendKeys(text);
  }

  Object script(String js, Object... args) {
    return ((JavascriptExecutor) driver).executeScript(js, args);
  }

  void size(int width, int height) {
    driver.manage().window().setSize(new Dimension(width, height));
  }

  /**
   * Saves the page from its top, up to 2,400 px of it, as target/console-screenshots/NAME.png
   * (a test artifact): the window grows to the page's height for the shot and then goes back.
   */
  Path screenshot(String name) throws IOException {
    Files.createDirectories(SCREENSHOTS);
    Path file = SCREENSHOTS.resolve(name + ".png");
    Dimension before = driver.manage().window().getSize();
    long height = ((Number) script("window.scrollTo(0, 0); "
        + "return document.documentElement.scrollHeight")).longValue();
    int chrome = before.getHeight() - ((Number) script("return window.innerHeight")).intValue();
    size(before.getWidth(), (int) Math.min(2400, Math.max(before.getHeight(), height + chrome)));
    try {
      Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
    } finally {
      size(before.getWidth(), before.getHeight());
    }
    return file;
  }

  List<String> texts(String css) {
    return driver.findElements(By.cssSelector(css)).stream().map(WebElement::getText).toList();
  }

  @Override
  public void close() {
    try {
      driver.quit();
    } finally {
      try (Stream<Path> files = Files.walk(profile)) {
        files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      } catch (IOException e) {
        // A leftover temporary profile is harmless.
      }
    }
  }
}
