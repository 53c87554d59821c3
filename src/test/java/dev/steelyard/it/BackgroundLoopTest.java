package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.source.AppFileParser;
import dev.steelyard.source.FileAppCatalog;
import dev.steelyard.source.HealthCheckedCatalog;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Background loops survive whatever their body throws, errors included, and one that stops
 * anyway shows in {@code /readyz} (503) and in {@code /api/v1/status}.
 */
class BackgroundLoopTest {

  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(2)).build();

  private static String apps(int port) {
    return """
        apps:
          - name: hello-app
            port: 8080
            endpoints: {main: ["127.0.0.1:%d"]}
        """.formatted(port);
  }

  @Test
  void anErrorInTheAppsFileParseIsShownAndALaterFileIsReadAgain(@TempDir Path dir)
      throws Exception {
    Path file = Files.writeString(dir.resolve("apps.yaml"), apps(9001));
    AtomicReference<Supplier<Error>> failing = new AtomicReference<>();
    FileAppCatalog.Parser parser = yaml -> {
      Supplier<Error> error = failing.get();
      if (error != null) {
        throw error.get();
      }
      return AppFileParser.read(yaml);
    };
    try (SteelyardServer server = start(dir, HealthCheckedCatalog.wrap(
        FileAppCatalog.open(file, Duration.ofMillis(50), false, parser)))) {
      String admin = "http://127.0.0.1:" + server.adminPort();
      int port = 9001;
      for (Supplier<Error> error : java.util.List.<Supplier<Error>>of(
          () -> new OutOfMemoryError("test: Java heap space"),
          () -> new StackOverflowError("test: too deep"))) {
        failing.set(error);
        port++;
        Files.writeString(file, apps(port));
        String name = error.get().getClass().getName();
        await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() ->
            get(admin + "/api/v1/status").body().contains("reading it failed: " + name));
        assertThat(get(admin + "/readyz").statusCode()).as("the poller still runs")
            .isEqualTo(200);

        failing.set(null);
        int expected = port;
        await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() ->
            get(admin + "/api/v1/apps/default/hello-app").body()
                .contains("127.0.0.1:" + expected));
        assertThat(get(admin + "/api/v1/status").body()).contains("\"sourceError\": \"\"")
            .contains("\"stoppedLoops\": []");
      }
    }
  }

  @Test
  void aLoopThatStoppedMakesTheServerUnready(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("apps.yaml"), apps(9001));
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    try (SteelyardServer server = start(dir, HealthCheckedCatalog.wrap(
        FileAppCatalog.open(file, Duration.ofMillis(50))))) {
      String admin = "http://127.0.0.1:" + server.adminPort();
      assertThat(get(admin + "/readyz").statusCode()).isEqualTo(200);
      assertThat(get(admin + "/api/v1/status").body()).contains("\"stoppedLoops\": []");

      // A periodic task not guarded as the server's are: its executor cancels it at the throw.
      ScheduledFuture<?> task = executor.scheduleWithFixedDelay(() -> {
        throw new IllegalStateException("test: the loop broke");
      }, 0, 10, TimeUnit.MILLISECONDS);
      server.loops().register("test loop", () -> task, () -> false);

      await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() ->
          get(admin + "/readyz").statusCode() == 503);
      assertThat(get(admin + "/readyz").body()).contains("\"status\":\"degraded\"")
          .contains("test loop: it failed: java.lang.IllegalStateException: test: the loop "
              + "broke");
      assertThat(get(admin + "/api/v1/status").body()).contains("\"stoppedLoops\": [\"test "
          + "loop: it failed: java.lang.IllegalStateException: test: the loop broke\"]");
      assertThat(get(admin + "/healthz").statusCode()).isEqualTo(200);
    } finally {
      executor.shutdownNow();
    }
  }

  private static SteelyardServer start(Path dir, dev.steelyard.source.AppCatalog catalog)
      throws Exception {
    return new SteelyardServer(ServerConfig.defaults(dir.resolve("data"))
        .withBindHost("127.0.0.1").withPorts(0, 0)
        .withHoldoff(Duration.ofMillis(10), Duration.ofMillis(100)), catalog).start();
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5))
        .build(), HttpResponse.BodyHandlers.ofString());
  }
}
