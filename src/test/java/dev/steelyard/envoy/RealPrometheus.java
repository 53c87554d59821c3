package dev.steelyard.envoy;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Prometheus server (Debian's {@code prometheus} package; {@code .ci/run} installs it)
 * scraping the given targets every second. Found as {@code STEELYARD_PROMETHEUS} or {@code
 * prometheus} on the PATH; without one the tests skip with one line, and with {@value #REQUIRE}
 * set they fail instead.
 */
final class RealPrometheus implements AutoCloseable {

  static final String REQUIRE = "STEELYARD_REQUIRE_PROMETHEUS";
  private static final String HOW_TO_GET = "no prometheus binary (set STEELYARD_PROMETHEUS or "
      + "put prometheus on the PATH: apt-get install prometheus)";

  private final Process process;
  private final Path log;
  final URI url;

  private RealPrometheus(Process process, Path log, URI url) {
    this.process = process;
    this.log = log;
    this.url = url;
  }

  static Path binaryOrSkip() {
    Optional<Path> binary = Optional.ofNullable(System.getenv("STEELYARD_PROMETHEUS"))
        .map(Path::of).filter(Files::isExecutable)
        .or(() -> java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "")
            .split(java.io.File.pathSeparator))
            .map(dir -> Path.of(dir, "prometheus")).filter(Files::isExecutable).findFirst());
    if (binary.isPresent()) {
      return binary.get();
    }
    if ("1".equals(System.getenv(REQUIRE))) {
      fail("Prometheus tests cannot run, and " + REQUIRE + "=1 makes that a failure: "
          + HOW_TO_GET);
    }
    System.err.println("SKIPPED Prometheus tests: " + HOW_TO_GET);
    Assumptions.abort(HOW_TO_GET);
    throw new AssertionError("unreachable");
  }

  /** Starts Prometheus on a free loopback port, scraping Envoy's stats at each admin address. */
  static RealPrometheus scrapingEnvoys(Path binary, Path dir, List<String> envoyAdmins)
      throws IOException, InterruptedException {
    Files.createDirectories(dir);
    StringBuilder targets = new StringBuilder();
    for (String admin : envoyAdmins) {
      targets.append(targets.length() == 0 ? "" : ", ").append('"').append(admin).append('"');
    }
    Path config = dir.resolve("prometheus.yml");
    Files.writeString(config, """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        scrape_configs:
          - job_name: envoy
            metrics_path: /stats/prometheus
            static_configs:
              - targets: [%s]
        """.formatted(targets));
    int port = EnvoyMesh.freePort();
    Path log = dir.resolve("prometheus.log");
    Process process = new ProcessBuilder(binary.toString(),
        "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
        "--web.listen-address=127.0.0.1:" + port)
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    RealPrometheus prometheus = new RealPrometheus(process, log,
        URI.create("http://127.0.0.1:" + port));
    prometheus.awaitReady(Duration.ofSeconds(30));
    return prometheus;
  }

  private void awaitReady(Duration timeout) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("prometheus exited: " + Files.readString(log));
      }
      try {
        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(url.resolve("/-/ready"))
            .build(), HttpResponse.BodyHandlers.ofString());
        if (ready.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    close();
    throw new IOException("prometheus not ready within " + timeout + ": " + Files.readString(log));
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
  }
}
