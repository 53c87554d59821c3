package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.demo.RoleBackend;
import dev.steelyard.publish.SnapshotPublisherTest.MutableCatalog;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One app's mistake costs only that app: another app claiming hello-app's gateway host (a source
 * that let it through; the apps file would refuse it) loses that host with a notice, and the
 * weight change still reaches a real gRPC client of hello-app. It used to refuse every kind's
 * configuration (500, proxies kept the previous split).
 */
class BestEffortPublishTest {

  private static final AppKey HELLO = new AppKey("default", "hello-app");
  private static final AppKey OTHER = new AppKey("default", "other");

  private static AppSpec app(AppKey key, String host, RoleBackend main, RoleBackend canary) {
    return new AppSpec(key, 50051, AppProtocol.GRPC, List.of(host), Map.of(
        SubsetRole.MAIN, List.of(new Endpoint("127.0.0.1", main.port())),
        SubsetRole.CANARY, List.of(new Endpoint("127.0.0.1", canary.port()))));
  }

  @Test
  void anAppThatClaimsAnotherAppsGatewayHostLosesItAndTheRestIsPublished(@TempDir Path dir)
      throws Exception {
    try (RoleBackend main = RoleBackend.start("hello-app", SubsetRole.MAIN, "127.0.0.1", 0);
        RoleBackend canary = RoleBackend.start("hello-app", SubsetRole.CANARY, "127.0.0.1", 0)) {
      MutableCatalog catalog = new MutableCatalog(List.of(app(HELLO, "a.io", main, canary)));
      try (SteelyardServer server = new SteelyardServer(ServerConfig.defaults(dir)
              .withPorts(0, 0).withBindHost("127.0.0.1")
              .withHoldoff(Duration.ofMillis(10), Duration.ofMillis(100)), catalog).start();
          XdsTestClient client = new XdsTestClient(server.xdsPort(), "best-effort", "hello-app")) {
        assertThat(client.count(50)).containsOnlyKeys("main");

        catalog.set(List.of(app(HELLO, "a.io", main, canary), app(OTHER, "A.io", main, canary)));
        HttpClient http = HttpClient.newHttpClient();
        String admin = "http://127.0.0.1:" + server.adminPort();
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(
                URI.create(admin + "/api/v1/apps/default/hello-app/split"))
            .PUT(HttpRequest.BodyPublishers.ofString("{\"mode\":\"test\",\"canaryWeight\":100}"))
            .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(15))
            .until(() -> client.count(20).keySet().equals(java.util.Set.of("canary")));
        String other = http.send(HttpRequest.newBuilder(
                URI.create(admin + "/api/v1/apps/default/other")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        assertThat(other).contains("gateway: host A.io belongs to default/hello-app; left out");
        String status = http.send(HttpRequest.newBuilder(URI.create(admin + "/api/v1/status"))
            .build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(status).doesNotContain("refused");
      }
    }
  }
}
