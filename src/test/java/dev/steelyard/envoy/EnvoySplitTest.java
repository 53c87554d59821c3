package dev.steelyard.envoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.steelyard.demo.HttpProbe;
import dev.steelyard.demo.RoleBackend;
import dev.steelyard.it.Binomial;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.view.SubsetRole;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Envoy gateways and sidecars, started from the project's bootstraps, accept what Steelyard
 * sends and split HTTP requests as the split says: 10,000 requests per setting, checked within
 * 5 sigma of a binomial ({@link Binomial}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EnvoySplitTest {

  private static final int REQUESTS = 10_000;

  private EnvoyMesh mesh;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    mesh = new EnvoyMesh(dir);
    mesh.addApp("hello-app", "http", 2, 1, 1);
    mesh.addApp("hello-grpc", "grpc", 1, 1, 1);
    mesh.startServer();
    mesh.startEnvoys();
  }

  @AfterAll
  void stop() {
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  @Order(1)
  void envoyAcceptsEverythingAndHasEverySubsetWithItsEndpoints() throws Exception {
    await().atMost(Duration.ofSeconds(10)).until(() -> mesh.proxies().keySet()
        .containsAll(List.of("gateway-1", "sidecar-1")));
    for (JsonNode proxy : mesh.proxies().values()) {
      assertThat(proxy.has("lastNack")).as("NACK from %s: %s", proxy.path("nodeId"), proxy)
          .isFalse();
      assertThat(proxy.path("ackedVersions").size()).as("%s ACKed all four types", proxy)
          .isEqualTo(4);
    }
    for (EnvoyProcess envoy : List.of(mesh.gateway, mesh.sidecar)) {
      String clusters = envoy.admin("/clusters").body();
      String dump = envoy.admin("/config_dump").body();
      for (EnvoyMesh.App app : mesh.apps.values()) {
        for (SubsetRole role : SubsetRole.values()) {
          String cluster = "default/" + app.name + "/" + role.label();
          assertThat(dump).as("%s config_dump", envoy.serviceNode())
              .contains("\"name\": \"" + cluster + "\"");
          for (RoleBackend backend : app.backends.get(role)) {
            assertThat(clusters).as("%s /clusters", envoy.serviceNode())
                .contains(cluster + "::127.0.0.1:" + backend.port() + "::health_flags::healthy");
          }
        }
      }
    }
  }

  @Test
  @Order(2)
  void gatewayFollowsTheMeshSplitByDefault() throws Exception {
    setAndAwait("{\"mode\":\"test\",\"canaryWeight\":10}", ProxyKind.GATEWAY);
    Binomial.assertSplit(measured("gateway, test 10", mesh.viaGateway("hello-app", REQUESTS)),
        REQUESTS, 0.90, 0, 0.10);
  }

  @Test
  @Order(3)
  void gatewaySplitsCanaryDeployFive() throws Exception {
    setAndAwait("{\"mode\":\"deploy\",\"canaryWeight\":5}", ProxyKind.GATEWAY);
    Binomial.assertSplit(measured("gateway, deploy 5", mesh.viaGateway("hello-app", REQUESTS)),
        REQUESTS, 0.90, 0.05, 0.05);
  }

  @Test
  @Order(4)
  void gatewayHasItsOwnSplitWhileTheMeshRunsAnother() throws Exception {
    JsonNode state = setAndAwait("{\"mode\":\"deploy\",\"canaryWeight\":1,"
        + "\"gateway\":{\"mode\":\"deploy\",\"canaryWeight\":20}}", ProxyKind.GATEWAY);
    await().atMost(Duration.ofSeconds(10)).until(() -> EnvoyMesh.allAcked(
        mesh.getJson("/api/v1/apps/default/hello-app"), ProxyKind.SIDECAR));
    assertThat(state.path("gatewayFollowsMesh").asBoolean()).isFalse();
    Binomial.assertSplit(measured("gateway, its own deploy 20",
        mesh.viaGateway("hello-app", REQUESTS)), REQUESTS, 0.60, 0.20, 0.20);
    Binomial.assertSplit(measured("sidecar, mesh deploy 1", mesh.viaSidecar("hello-app",
        REQUESTS)), REQUESTS, 0.98, 0.01, 0.01);
  }

  @Test
  @Order(5)
  void hostWithPortRoutesLikeHostWithout() throws Exception {
    HttpProbe.Result withPort = mesh.http.run(mesh.gatewayPort,
        "hello-app.example.com:" + mesh.gatewayPort, "/", REQUESTS, Duration.ofSeconds(10));
    Binomial.assertSplit(measured("gateway, deploy 20, Host with the port", withPort), REQUESTS,
        0.60, 0.20, 0.20);
    HttpProbe.Result otherPort = mesh.http.run(mesh.gatewayPort, "hello-app.example.com:8443",
        "/", 100, Duration.ofSeconds(10));
    assertThat(otherPort.failed()).as("%s", otherPort.counts()).isZero();
  }

  @Test
  @Order(6)
  void sidecarSplitsEveryMeshNameOfTheApp() throws Exception {
    setAndAwait("{\"mode\":\"test\",\"canaryWeight\":25,\"gatewayFollowsMesh\":true}",
        ProxyKind.SIDECAR);
    List<String> names = List.of("hello-app", "hello-app.default", "hello-app.default.svc",
        "hello-app.default.svc.cluster.local");
    int perName = REQUESTS / 4;
    for (String name : names) {
      for (String host : List.of(name, name + ":8080")) {
        Binomial.assertSplit(measured("sidecar, test 25, Host " + host,
            mesh.viaSidecar(host, perName)), perName, 0.75, 0, 0.25);
      }
    }
  }

  @Test
  @Order(7)
  void unknownHostIsANotFoundNotAnotherAppsBackend() throws Exception {
    HttpProbe.Result result = mesh.viaSidecar("nope.default.svc.cluster.local", 10);
    assertThat(result.counts()).containsOnlyKeys("HTTP 404");
  }

  /** Prints what was measured, so the test's output shows every split it checked. */
  private static java.util.Map<String, Integer> measured(String what, HttpProbe.Result result) {
    System.out.println("[envoy] " + what + ": " + result.counts() + " of " + result.total());
    return result.counts();
  }

  private JsonNode setAndAwait(String split, ProxyKind kind) throws Exception {
    JsonNode state = mesh.putSplit("hello-app", split);
    await().atMost(Duration.ofSeconds(10)).until(() -> EnvoyMesh.allAcked(
        mesh.getJson("/api/v1/apps/default/hello-app"), kind));
    return state;
  }
}
