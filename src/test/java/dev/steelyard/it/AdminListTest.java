package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.source.AppCatalog;
import dev.steelyard.source.FileAppCatalog;
import dev.steelyard.source.HealthCheck;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppSpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The app list with 5,000 apps over a real socket: linear (it took 28-39 s, quadratic in the
 * apps), paginated, and never in the way of {@code /healthz} and {@code /readyz}, which answer
 * on the event loop while lists are built on worker threads.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminListTest {

  private static final int APPS = 5_000;
  private static final int NAMESPACES = 5;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(2)).build();
  private final ObjectMapper json = new ObjectMapper();
  /** Holds every notices() call while closed; open unless a test closes it. */
  private volatile CountDownLatch gate = new CountDownLatch(0);
  private SteelyardServer server;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    StringBuilder yaml = new StringBuilder("apps:\n");
    for (int i = 0; i < APPS; i++) {
      yaml.append("  - name: app-").append(String.format("%04d", i)).append('\n')
          .append("    namespace: ns-").append(i % NAMESPACES).append('\n')
          .append("    port: 8080\n")
          .append("    endpoints: {main: [\"127.0.0.1:").append(10_000 + i).append("\"]}\n");
    }
    Path apps = Files.writeString(dir.resolve("apps.yaml"), yaml);
    AppCatalog file = FileAppCatalog.open(apps, Duration.ofSeconds(1));
    server = new SteelyardServer(ServerConfig.defaults(dir.resolve("data"))
        .withBindHost("127.0.0.1").withPorts(0, 0), new GatedCatalog(file)).start();
  }

  @AfterAll
  void stop() {
    server.close();
  }

  @Test
  void theWholeListComesBackInLinearTime() throws Exception {
    long start = System.nanoTime();
    HttpResponse<String> response = get("/api/v1/apps", Duration.ofSeconds(20));
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    System.out.printf("GET /api/v1/apps with %d apps: %d ms, %d bytes%n", APPS, millis,
        response.body().length());
    assertThat(response.statusCode()).isEqualTo(200);
    JsonNode list = json.readTree(response.body());
    assertThat(list.get("apps")).hasSize(APPS);
    assertThat(list.get("continue").asText()).isEmpty();
    assertThat(list.at("/apps/0/meshHosts/0").asText()).isEqualTo("app-0000");
    // Not a benchmark: a bound far below the 28 s the quadratic list took on this machine.
    assertThat(millis).isLessThan(10_000);
  }

  @Test
  void pagesFollowTheContinueTokenAndANamespaceFilters() throws Exception {
    List<String> seen = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      JsonNode page = json.readTree(get("/api/v1/apps?namespace=ns-3&limit=300&continue="
          + token, Duration.ofSeconds(10)).body());
      page.get("apps").forEach(app -> {
        assertThat(app.get("namespace").asText()).isEqualTo("ns-3");
        seen.add(app.get("namespace").asText() + "/" + app.get("name").asText());
      });
      token = page.get("continue").asText();
      pages++;
    } while (!token.isEmpty() && pages < 10);
    assertThat(pages).isEqualTo(4);
    assertThat(seen).hasSize(APPS / NAMESPACES).doesNotHaveDuplicates().isSorted();

    assertThat(get("/api/v1/apps?limit=0", Duration.ofSeconds(5)).statusCode()).isEqualTo(400);
    assertThat(get("/api/v1/apps?limit=x", Duration.ofSeconds(5)).statusCode()).isEqualTo(400);
    assertThat(get("/api/v1/apps?continue=***", Duration.ofSeconds(5)).statusCode())
        .isEqualTo(400);
  }

  @Test
  void probesAnswerAtOnceWhileAListIsStuck() throws Exception {
    gate = new CountDownLatch(1);
    try {
      CompletableFuture<HttpResponse<String>> list = http.sendAsync(
          HttpRequest.newBuilder(URI.create(admin() + "/api/v1/apps")).build(),
          HttpResponse.BodyHandlers.ofString());
      // The list is now held inside the catalog; the probes must not wait for it.
      Thread.sleep(200);
      for (String probe : new String[] {"/healthz", "/readyz"}) {
        long start = System.nanoTime();
        HttpResponse<String> response = get(probe, Duration.ofSeconds(2));
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.printf("%s while a list is stuck: %d ms%n", probe, millis);
        assertThat(response.statusCode()).as(probe).isEqualTo(200);
      }
      assertThat(list).isNotDone();
      gate.countDown();
      assertThat(list.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    } finally {
      gate.countDown();
    }
  }

  @Test
  void probesStayFastWhileListsAreBuilt() throws Exception {
    // Warm: the first request of a client (connection, JIT) is not what is measured.
    assertThat(get("/healthz", Duration.ofSeconds(5)).statusCode()).isEqualTo(200);
    List<CompletableFuture<HttpResponse<Void>>> lists = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      lists.add(http.sendAsync(HttpRequest.newBuilder(URI.create(admin() + "/api/v1/apps"))
          .build(), HttpResponse.BodyHandlers.discarding()));
    }
    long worst = 0;
    int probes = 0;
    while (lists.stream().anyMatch(list -> !list.isDone()) && probes < 200) {
      long start = System.nanoTime();
      assertThat(get(probes % 2 == 0 ? "/healthz" : "/readyz", Duration.ofSeconds(2))
          .statusCode()).isEqualTo(200);
      long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      if (took > 100) {
        System.out.println("SLOW probe " + probes + ": " + took + " ms");
      }
      worst = Math.max(worst, took);
      probes++;
      Thread.sleep(20);
    }
    System.out.printf("%d probes while 4 lists of %d apps were built: worst %d ms%n", probes,
        APPS, worst);
    for (CompletableFuture<HttpResponse<Void>> list : lists) {
      assertThat(list.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
    // The target is 100 ms (probesAnswerAtOnceWhileAListIsStuck shows they do not wait for a
    // list); this bound leaves room for a machine whose 2 cores run other builds too (load 9
    // when this was written, worst probe 365-530 ms). The quadratic list held them 28-38 s.
    assertThat(worst).isLessThan(2_000);
  }

  private String admin() {
    return "http://127.0.0.1:" + server.adminPort();
  }

  private HttpResponse<String> get(String path, Duration timeout) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(admin() + path)).timeout(timeout).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The file's apps, with a gate in {@code notices}, which the app list calls per app. */
  private final class GatedCatalog implements AppCatalog {
    private final AppCatalog source;

    GatedCatalog(AppCatalog source) {
      this.source = source;
    }

    @Override
    public List<AppSpec> apps() {
      return source.apps();
    }

    @Override
    public String describe() {
      return source.describe();
    }

    @Override
    public Optional<String> lastError() {
      return source.lastError();
    }

    @Override
    public Map<AppKey, HealthCheck> healthChecks() {
      return source.healthChecks();
    }

    @Override
    public List<String> notices(AppKey app) {
      try {
        gate.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return source.notices(app);
    }

    @Override
    public void onChange(Runnable listener) {
      source.onChange(listener);
    }

    @Override
    public void close() {
      source.close();
    }
  }
}
