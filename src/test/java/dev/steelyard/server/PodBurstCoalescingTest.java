package dev.steelyard.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.source.kubernetes.KubernetesSourceSettings;
import dev.steelyard.source.kubernetes.KubeObjects;
import dev.steelyard.source.kubernetes.MockCluster;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A burst of pod events becomes a few publishes, not one per event. */
class PodBurstCoalescingTest {

  private static final int PODS = 100;

  @TempDir Path dataDir;

  @Test
  void aBurstOfPodEventsIsCoalescedBeforeAPush() throws Exception {
    try (MockCluster cluster = new MockCluster();
        KubernetesClient kubectl = cluster.newClient()) {
      kubectl.services().resource(KubeObjects.service("default", "hello-app", "app", 80,
          new IntOrString(9000), "grpc")).create();
      try (KubernetesControlPlane plane = KubernetesControlPlane.start(cluster.client(),
          ServerConfig.defaults(dataDir).withPorts(0, 0).withBindHost("127.0.0.1"),
          KubernetesSourceSettings.DEFAULTS, "replica-a")) {
        AtomicInteger publishes = new AtomicInteger();
        plane.server().publisher().onPublished(state -> publishes.incrementAndGet());

        for (int i = 0; i < PODS; i++) {
          kubectl.pods().resource(KubeObjects.pod("default", "main-" + i,
              Map.of("app", "hello-app", "app-role", "main"),
              "10.0." + (i / 250) + "." + (i % 250 + 1), true, Map.of())).create();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> plane.server().publisher().current()
            .view().app(new AppKey("default", "hello-app"))
            .map(app -> app.spec().endpoints(SubsetRole.MAIN).size() == PODS).orElse(false));
        // Holdoff 20 ms, at most 200 ms: creating 100 pods one by one takes longer than one
        // holdoff, so several publishes are expected (10 here on 2 cores), but far fewer than
        // one per pod; the bound leaves room for a slower machine.
        assertThat(publishes.get()).isBetween(1, PODS / 2);
      }
    }
  }
}
