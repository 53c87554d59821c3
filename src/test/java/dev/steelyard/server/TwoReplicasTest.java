package dev.steelyard.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.publish.KindVersions;
import dev.steelyard.source.kubernetes.KubernetesSourceSettings;
import dev.steelyard.source.kubernetes.MockCluster;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.SplitMode;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.split.kubernetes.TrafficSplits;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.view.AppKey;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two control planes against one (mock) cluster hand out identical content-hash versions, so a
 * proxy that reconnects to the other replica already has what it would be sent; and a split set
 * through one replica is served by both.
 */
class TwoReplicasTest {

  private static final AppKey HELLO = new AppKey("default", "hello-app");

  @TempDir Path dataA;
  @TempDir Path dataB;
  private MockCluster cluster;
  private KubernetesClient kubectl;
  private KubernetesClient clientB;
  private KubernetesControlPlane replicaA;
  private KubernetesControlPlane replicaB;

  @BeforeEach
  void start() throws Exception {
    cluster = new MockCluster();
    kubectl = cluster.newClient();
    clientB = cluster.newClient();
    kubectl.services().resource(MockCluster.service("default", "hello-app", "app", 80,
        new IntOrString(9000), "grpc")).create();
    int ip = 1;
    for (String role : List.of("main", "main", "baseline", "canary")) {
      kubectl.pods().resource(MockCluster.pod("default", role + "-" + ip,
          Map.of("app", "hello-app", "app-role", role), "10.0.0." + ip++, true, Map.of()))
          .create();
    }
    ServerConfig config = ServerConfig.defaults(dataA).withPorts(0, 0).withBindHost("127.0.0.1");
    replicaA = KubernetesControlPlane.start(cluster.client(), config,
        KubernetesSourceSettings.DEFAULTS, "replica-a");
    replicaB = KubernetesControlPlane.start(clientB,
        ServerConfig.defaults(dataB).withPorts(0, 0).withBindHost("127.0.0.1"),
        KubernetesSourceSettings.DEFAULTS, "replica-b");
  }

  @AfterEach
  void stop() {
    replicaA.close();
    replicaB.close();
    clientB.close();
    kubectl.close();
    cluster.close();
  }

  private static Map<ProxyKind, KindVersions> versions(KubernetesControlPlane replica) {
    return replica.server().publisher().current().versions();
  }

  @Test
  void replicasAgreeOnVersionsBeforeAndAfterChanges() throws Exception {
    assertThat(versions(replicaA)).hasSize(ProxyKind.values().length);
    assertThat(versions(replicaB)).isEqualTo(versions(replicaA));
    Map<ProxyKind, KindVersions> initial = versions(replicaA);

    replicaA.splits().set(HELLO, new AppSplits(new SplitPolicy(SplitMode.DEPLOY, 1000),
        Optional.of(new SplitPolicy(SplitMode.TEST, 500))));
    await().atMost(Duration.ofSeconds(5)).until(() ->
        !versions(replicaA).equals(initial) && versions(replicaB).equals(versions(replicaA)));
    assertThat(replicaB.splits().get(HELLO)).isEqualTo(replicaA.splits().get(HELLO));

    Map<ProxyKind, KindVersions> afterSplit = versions(replicaA);
    kubectl.pods().inNamespace("default").withName("canary-4").edit(pod -> new PodBuilder(pod)
        .editStatus().editFirstCondition().withStatus("False").endCondition().endStatus()
        .build());
    await().atMost(Duration.ofSeconds(5)).until(() ->
        !versions(replicaA).get(ProxyKind.GATEWAY).endpoints()
            .equals(afterSplit.get(ProxyKind.GATEWAY).endpoints())
            && versions(replicaB).equals(versions(replicaA)));
  }

  @Test
  void bothReplicasReportInTheStatusWithoutOverwritingEachOther() throws Exception {
    replicaB.splits().set(HELLO, new AppSplits(new SplitPolicy(SplitMode.TEST, 1000),
        Optional.empty()));
    replicaA.refreshStatus();
    replicaB.refreshStatus();
    await().atMost(Duration.ofSeconds(15)).until(() -> {
      GenericKubernetesResource resource = kubectl.genericKubernetesResources(
          TrafficSplits.CONTEXT).inNamespace("default").withName("hello-app").get();
      Object status = resource.getAdditionalProperties().get("status");
      return status instanceof Map<?, ?> map && map.get("replicas") instanceof Map<?, ?> replicas
          && replicas.keySet().equals(java.util.Set.of("replica-a", "replica-b"))
          && versions(replicaA).get(ProxyKind.GATEWAY).routes()
              .equals(((Map<?, ?>) map.get("routesVersions")).get("gateway"));
    });
  }
}
