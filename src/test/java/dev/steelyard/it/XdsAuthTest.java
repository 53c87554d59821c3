package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.feedback.ProxyRegistry;
import dev.steelyard.feedback.ProxyStatus;
import dev.steelyard.publish.PublishedState;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.xds.XdsAuth;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The xDS port with a bearer token: who gets in, and how proxies are counted. */
class XdsAuthTest {

  private static final String ROUTES = Resources.V3.ROUTE_TYPE_URL;
  private static final List<String> HELLO_ROUTES = List.of("grpc/default/hello-app");
  private static final String TOKEN = "xds-test-token";

  private TestMesh mesh;

  @BeforeEach
  void start(@TempDir Path dir) throws Exception {
    mesh = new TestMesh(dir, new int[] {1, 1, 1}, Optional.empty());
    mesh.stopServer();
    mesh.xdsAuth = XdsAuth.token(TOKEN);
    mesh.start(0);
  }

  @AfterEach
  void stop() {
    mesh.close();
  }

  @Test
  void withoutTheTokenAStreamIsRefusedAndIsNoProxy() throws Exception {
    for (Optional<String> token : List.of(Optional.<String>empty(), Optional.of("wrong"))) {
      try (RawAdsStream stream = new RawAdsStream(mesh.server.xdsPort(), "intruder", "gateway",
          token)) {
        stream.request(ROUTES, HELLO_ROUTES);
        Status status = Status.fromThrowable(stream.closedWithError.get(5, TimeUnit.SECONDS));
        assertThat(status.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(status.getDescription())
            .contains(token.isEmpty() ? "needs a bearer token" : "the bearer token is wrong");
      }
    }
    assertThat(mesh.server.proxies().proxies()).isEmpty();
    assertThat(mesh.get("/metrics").body()).contains("steelyard_xds_auth_failures_total 2.0");
  }

  @Test
  void withTheTokenAStreamIsServedAndShownAsAuthenticated() throws Exception {
    try (RawAdsStream stream = new RawAdsStream(mesh.server.xdsPort(), "grpc-1", "grpc",
        Optional.of(TOKEN))) {
      stream.request(ROUTES, HELLO_ROUTES);
      assertThat(stream.next(5)).isNotNull();
      ProxyStatus proxy = mesh.server.proxies().proxies().get(0);
      assertThat(proxy.peer().authenticated()).isTrue();
      assertThat(proxy.peer().method()).isEqualTo("token");
      assertThat(mesh.get("/api/v1/proxies").body())
          .contains("\"authenticated\": true").contains("\"authMethod\": \"token\"");
    }
  }

  @Test
  void streamsReusingANodeIdAreOneProxyShownByTheNewest() throws Exception {
    List<RawAdsStream> streams = new ArrayList<>();
    try {
      for (int i = 0; i < 5; i++) {
        RawAdsStream stream = new RawAdsStream(mesh.server.xdsPort(), "same-id", "grpc",
            Optional.of(TOKEN));
        streams.add(stream);
        stream.request(ROUTES, HELLO_ROUTES);
        DiscoveryResponse routes = stream.next(5);
        assertThat(routes).isNotNull();
        // Only the newest ACKs: the older ones are what a crashed proxy leaves behind.
        if (i == 4) {
          stream.ack(routes, HELLO_ROUTES);
        }
      }
      ProxyRegistry registry = mesh.server.proxies();
      await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
        List<ProxyStatus> proxies = registry.proxies();
        assertThat(proxies).hasSize(1);
        assertThat(proxies.get(0).streams()).isEqualTo(5);
        PublishedState published = mesh.server.publisher().current();
        assertThat(registry.routesProgress(published.snapshots()).get(ProxyKind.GRPC))
            .isEqualTo(new ProxyRegistry.Progress(1, 1));
      });
    } finally {
      streams.forEach(RawAdsStream::close);
    }
  }
}
