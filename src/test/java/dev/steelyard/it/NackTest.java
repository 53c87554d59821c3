package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.feedback.ProxyStatus;
import dev.steelyard.xds.XdsType;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A proxy that rejects a version: the server records the NACK, does not send the rejected
 * version again (java-control-plane alone would, in a tight loop), and sends the next version
 * once there is one.
 */
class NackTest {

  private static final String ROUTES = Resources.V3.ROUTE_TYPE_URL;
  private static final String CLUSTERS = Resources.V3.CLUSTER_TYPE_URL;
  private static final List<String> HELLO_ROUTES = List.of("grpc/default/hello-app");

  private TestMesh mesh;

  @BeforeEach
  void start(@TempDir Path dir) throws Exception {
    mesh = new TestMesh(dir, new int[] {1, 1, 1}, Optional.empty());
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  @Test
  void namedResourceRejectedOnFirstSightIsNotResent() throws Exception {
    try (RawAdsStream stream = new RawAdsStream(mesh.server.xdsPort(), "nacker", "grpc")) {
      stream.request(ROUTES, HELLO_ROUTES);
      DiscoveryResponse first = stream.next(5);
      assertThat(first).isNotNull();
      stream.nack(first, HELLO_ROUTES, "", "test rejects every route");

      assertThat(stream.next(2)).as("rejected version sent again").isNull();
      ProxyStatus proxy = only(mesh.server.proxies().proxies(), "nacker");
      assertThat(proxy.lastNack()).hasValueSatisfying(nack -> {
        assertThat(nack.type()).isEqualTo(XdsType.ROUTES);
        assertThat(nack.rejectedVersion()).isEqualTo(first.getVersionInfo());
        assertThat(nack.message()).isEqualTo("test rejects every route");
      });
      HttpResponse<String> proxies = mesh.get("/api/v1/proxies");
      assertThat(proxies.body()).contains("\"nodeId\": \"nacker\"")
          .contains("test rejects every route")
          .contains("\"rejectedVersion\": \"" + first.getVersionInfo() + "\"");

      // A new split is a new version: it is sent, and can be ACKed.
      assertThat(mesh.putSplit("{\"mode\":\"test\",\"canaryWeight\":20}").statusCode())
          .isEqualTo(200);
      DiscoveryResponse second = stream.next(5);
      assertThat(second).isNotNull();
      assertThat(second.getVersionInfo()).isNotEqualTo(first.getVersionInfo());
      RouteConfiguration routes = second.getResources(0).unpack(RouteConfiguration.class);
      assertThat(routes.getVirtualHosts(0).getRoutes(0).getRoute().getWeightedClusters()
          .getClustersList()).extracting(weight -> weight.getWeight().getValue())
          .containsExactly(8000, 2000);
      stream.ack(second, HELLO_ROUTES);
      await().atMost(Duration.ofSeconds(5)).until(() -> second.getVersionInfo().equals(
          only(mesh.server.proxies().proxies(), "nacker").ackedVersions().get(XdsType.ROUTES)));
      assertThat(stream.next(1)).isNull();
    }
  }

  @Test
  void wildcardRejectionOfANewVersionKeepsTheAckedOne() throws Exception {
    try (RawAdsStream stream = new RawAdsStream(mesh.server.xdsPort(), "envoy-1", "sidecar")) {
      stream.request(CLUSTERS, List.of());
      DiscoveryResponse good = stream.next(5);
      assertThat(good).isNotNull();
      stream.ack(good, List.of());

      // A second app appears in the file: new clusters, which this proxy rejects.
      Files.writeString(mesh.appsFile, mesh.appsYaml() + """
            - name: other-app
              namespace: default
              port: 8080
              endpoints:
                main: ["127.0.0.1:1"]
          """);
      DiscoveryResponse bad = stream.next(5);
      assertThat(bad).isNotNull();
      assertThat(bad.getResourcesCount()).isEqualTo(6);
      stream.nack(bad, List.of(), good.getVersionInfo(), "pretend other-app is invalid");

      assertThat(stream.next(2)).as("rejected version sent again").isNull();
      ProxyStatus proxy = only(mesh.server.proxies().proxies(), "envoy-1");
      assertThat(proxy.ackedVersions()).containsEntry(XdsType.CLUSTERS, good.getVersionInfo());
      assertThat(proxy.lastNack()).hasValueSatisfying(nack -> {
        assertThat(nack.rejectedVersion()).isEqualTo(bad.getVersionInfo());
        assertThat(nack.message()).isEqualTo("pretend other-app is invalid");
      });
    }
  }

  @Test
  void aNodeWithAnUnknownKindIsRefusedWithAReason() throws Exception {
    try (RawAdsStream stream = new RawAdsStream(mesh.server.xdsPort(), "odd", "mesh-gateway")) {
      stream.request(CLUSTERS, List.of());
      Throwable error = stream.closedWithError.get(5, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(io.grpc.Status.fromThrowable(error).getCode())
          .isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
      assertThat(error).hasMessageContaining(
          "node metadata steelyard.kind is 'mesh-gateway': expected gateway, sidecar or grpc");
      assertThat(stream.responses).isEmpty();
    }
  }

  private static ProxyStatus only(List<ProxyStatus> proxies, String nodeId) {
    List<ProxyStatus> matching =
        proxies.stream().filter(proxy -> proxy.nodeId().equals(nodeId)).toList();
    assertThat(matching).hasSize(1);
    return matching.get(0);
  }
}
