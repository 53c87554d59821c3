package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.feedback.ProxyStatus;
import dev.steelyard.publish.KindVersions;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.xds.XdsType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart on the same data directory serves the same weights under the same content versions,
 * so a client that reconnects ends up where it was.
 */
class RestartTest {

  @Test
  void clientConvergesToTheSameWeightsAndVersionsAfterARestart(@TempDir Path dir)
      throws Exception {
    try (TestMesh mesh = new TestMesh(dir, new int[] {1, 1, 1}, Optional.empty())) {
      int xdsPort = mesh.server.xdsPort();
      try (XdsTestClient client = new XdsTestClient(xdsPort, "restart-client", "hello-app")) {
        client.call(); // channels are lazy: the first RPC opens the xDS stream
        assertThat(mesh.putSplit("{\"mode\":\"test\",\"canaryWeight\":30}").statusCode())
            .isEqualTo(200);
        Map<ProxyKind, KindVersions> before = mesh.server.publisher().current().versions();
        Map<XdsType, String> ackedBefore = awaitAcked(mesh, client);
        Binomial.assertSplit(client.count(2_000), 2_000, 0.7, 0, 0.3);

        mesh.stopServer();
        restartOnSamePort(mesh, xdsPort);

        assertThat(mesh.server.publisher().current().versions()).isEqualTo(before);
        Map<XdsType, String> ackedAfter = awaitAcked(mesh, client);
        assertThat(ackedAfter).isEqualTo(ackedBefore);
        Binomial.assertSplit(client.count(2_000), 2_000, 0.7, 0, 0.3);
      }
    }
  }

  private static void restartOnSamePort(TestMesh mesh, int xdsPort) throws Exception {
    // The old listening socket may take a moment to be released.
    await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
      mesh.start(xdsPort);
      return true;
    });
  }

  /** Waits until the client ACKed what is published now, for every type; returns its ACKs. */
  private static Map<XdsType, String> awaitAcked(TestMesh mesh, XdsTestClient client) {
    await().atMost(Duration.ofSeconds(30)).until(() -> proxy(mesh, client)
        // Every type but scoped routes, which only sidecars with per-app routes ask for.
        .map(proxy -> Stream.of(XdsType.values()).filter(type -> type != XdsType.SCOPED_ROUTES)
            .allMatch(type -> proxy.hasApplied(
                mesh.server.publisher().current().snapshots().get(proxy.group()), type)))
        .orElse(false));
    return proxy(mesh, client).orElseThrow().ackedVersions();
  }

  private static Optional<ProxyStatus> proxy(TestMesh mesh, XdsTestClient client) {
    return mesh.server.proxies().proxies().stream()
        .filter(proxy -> proxy.nodeId().equals(client.nodeId))
        .findFirst();
  }
}
