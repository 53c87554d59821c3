package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.JsonFormat;
import dev.steelyard.admin.v1.AppState;
import dev.steelyard.publish.PublishedState;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.xds.XdsType;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The split as grpc-java's own xDS client applies it: 10,000 RPCs per setting against
 * backends that answer with their role, with splits changed through the REST API while the
 * client stays connected.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class XdsSplitTest {

  private static final int RPCS = 10_000;

  private TestMesh mesh;
  private XdsTestClient client;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    mesh = new TestMesh(dir, new int[] {2, 1, 1}, Optional.empty());
    client = new XdsTestClient(mesh.server.xdsPort(), "split-test-client", "hello-app");
  }

  @AfterAll
  void stop() {
    client.close();
    mesh.close();
  }

  @Test
  @Order(1)
  void offSendsEverythingToMain() {
    Binomial.assertSplit(client.count(RPCS), RPCS, 1, 0, 0);
  }

  @Test
  @Order(2)
  void canaryTestTen() throws Exception {
    setSplitAndAwaitAck("{\"mode\":\"test\",\"canaryWeight\":10}");
    Binomial.assertSplit(client.count(RPCS), RPCS, 0.90, 0, 0.10);
  }

  @Test
  @Order(3)
  void canaryDeployFiveFromTestWithoutRestart() throws Exception {
    setSplitAndAwaitAck("{\"mode\":\"deploy\",\"canaryWeight\":5}");
    Binomial.assertSplit(client.count(RPCS), RPCS, 0.90, 0.05, 0.05);
  }

  @Test
  @Order(4)
  void fractionalWeightsAreSentExactly() throws Exception {
    setSplitAndAwaitAck("{\"mode\":\"deploy\",\"canaryWeight\":12.25}");
    // The statistics cannot tell 12.25 from 12; the weights the client was sent can.
    assertThat(mesh.server.publisher().current().view().apps().get(0).mesh().effective())
        .isEqualTo(new dev.steelyard.view.SubsetWeights(7550, 1225, 1225));
    Binomial.assertSplit(client.count(RPCS), RPCS, 0.755, 0.1225, 0.1225);
  }

  @Test
  @Order(5)
  void endingTheTestSendsEverythingBackToMain() throws Exception {
    setSplitAndAwaitAck("{\"mode\":\"test\",\"canaryWeight\":0}");
    Binomial.assertSplit(client.count(RPCS), RPCS, 1, 0, 0);
  }

  @Test
  @Order(6)
  void noProxyNackedAnything() {
    assertThat(mesh.server.proxies().proxies())
        .filteredOn(proxy -> proxy.nodeId().equals(client.nodeId))
        .isNotEmpty()
        .allSatisfy(proxy -> {
          assertThat(proxy.kind()).isEqualTo(ProxyKind.GRPC);
          assertThat(proxy.lastNack()).isEmpty();
          // Scoped routes are for sidecars with per-app routes; a gRPC client never asks.
          assertThat(proxy.ackedVersions()).containsOnlyKeys(XdsType.CLUSTERS,
              XdsType.ENDPOINTS, XdsType.LISTENERS, XdsType.ROUTES);
        });
  }

  @Test
  @Order(7)
  void theAppStateShowsTheRoutesVersionTheGrpcClientAcked() throws Exception {
    String acked = mesh.server.proxies().proxies().stream()
        .filter(proxy -> proxy.nodeId().equals(client.nodeId)).findFirst().orElseThrow()
        .ackedVersions().get(XdsType.ROUTES);
    AppState.Builder state = AppState.newBuilder();
    JsonFormat.parser().merge(mesh.get("/api/v1/apps/default/hello-app").body(), state);
    assertThat(state.getProgressList()).filteredOn(p -> p.getProxyKind().equals("grpc"))
        .singleElement().satisfies(p -> {
          assertThat(p.getRoutesVersion()).isEqualTo(acked);
          assertThat(p.getProxiesAcked()).isEqualTo(p.getProxiesConnected()).isPositive();
        });
  }

  /** A step counts as applied when the client ACKed the routes that carry it. */
  private void setSplitAndAwaitAck(String body) throws Exception {
    HttpResponse<String> response = mesh.putSplit(body);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    PublishedState published = mesh.server.publisher().current();
    await().atMost(Duration.ofSeconds(10)).until(() -> mesh.server.proxies().proxies().stream()
        .filter(proxy -> proxy.nodeId().equals(client.nodeId))
        .anyMatch(proxy -> proxy.hasApplied(published.snapshots().get(proxy.group()),
            XdsType.ROUTES)));
  }
}
