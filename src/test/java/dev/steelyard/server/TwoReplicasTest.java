package dev.steelyard.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.kubernetes.RealApi;
import dev.steelyard.kubernetes.RealCluster;
import dev.steelyard.publish.KindVersions;
import dev.steelyard.source.kubernetes.KubernetesSourceSettings;
import dev.steelyard.source.kubernetes.KubeObjects;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.SplitMode;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.split.kubernetes.TrafficSplits;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.view.AppKey;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two control planes against one real API server, each with its own client as the shipped
 * ServiceAccount, hand out identical content-hash versions, so a proxy that reconnects to the
 * other replica already has what it would be sent; and a split set through one replica is served
 * by both.
 */
@ExtendWith(RealApi.class)
class TwoReplicasTest {

  @TempDir Path dataA;
  @TempDir Path dataB;
  private final RealCluster cluster;
  private final KubernetesClient kubectl;
  private final String ns;
  private final AppKey hello;
  private KubernetesClient clientA;
  private KubernetesClient clientB;
  private KubernetesControlPlane replicaA;
  private KubernetesControlPlane replicaB;

  TwoReplicasTest(RealCluster cluster) {
    this.cluster = cluster;
    this.kubectl = cluster.admin();
    this.ns = cluster.newNamespace("replicas");
    this.hello = new AppKey(ns, "hello-app");
  }

  @BeforeEach
  void start() throws Exception {
    kubectl.services().resource(KubeObjects.service(ns, "hello-app", "app", 80,
        new IntOrString(9000), "grpc")).create();
    int ip = 1;
    for (String role : List.of("main", "main", "baseline", "canary")) {
      cluster.createPod(KubeObjects.pod(ns, role + "-" + ip,
          Map.of("app", "hello-app", "app-role", role), "10.0.0." + ip++, true, Map.of()));
    }
    KubernetesSourceSettings settings = new KubernetesSourceSettings("app", "app-role",
        List.of(ns));
    clientA = cluster.controlPlaneClient();
    clientB = cluster.controlPlaneClient();
    replicaA = KubernetesControlPlane.start(clientA,
        ServerConfig.defaults(dataA).withPorts(0, 0).withBindHost("127.0.0.1"), settings,
        "replica-a");
    replicaB = KubernetesControlPlane.start(clientB,
        ServerConfig.defaults(dataB).withPorts(0, 0).withBindHost("127.0.0.1"), settings,
        "replica-b");
  }

  @AfterEach
  void stop() {
    replicaA.close();
    replicaB.close();
    clientA.close();
    clientB.close();
  }

  private static Map<ProxyKind, KindVersions> versions(KubernetesControlPlane replica) {
    return replica.server().publisher().current().versions();
  }

  @Test
  void replicasAgreeOnVersionsBeforeAndAfterChanges() throws Exception {
    assertThat(versions(replicaA)).hasSize(ProxyKind.values().length);
    assertThat(versions(replicaB)).isEqualTo(versions(replicaA));
    Map<ProxyKind, KindVersions> initial = versions(replicaA);

    replicaA.splits().set(hello, new AppSplits(new SplitPolicy(SplitMode.DEPLOY, 1000),
        Optional.of(new SplitPolicy(SplitMode.TEST, 500))));
    await().atMost(Duration.ofSeconds(5)).until(() ->
        !versions(replicaA).equals(initial) && versions(replicaB).equals(versions(replicaA)));
    assertThat(replicaB.splits().get(hello)).isEqualTo(replicaA.splits().get(hello));

    Map<ProxyKind, KindVersions> afterSplit = versions(replicaA);
    cluster.setReady(ns, "canary-4", false);
    await().atMost(Duration.ofSeconds(5)).until(() ->
        !versions(replicaA).get(ProxyKind.GATEWAY).endpoints()
            .equals(afterSplit.get(ProxyKind.GATEWAY).endpoints())
            && versions(replicaB).equals(versions(replicaA)));
  }

  @Test
  void bothReplicasReportInTheStatusWithoutOverwritingEachOther() throws Exception {
    replicaB.splits().set(hello, new AppSplits(new SplitPolicy(SplitMode.TEST, 1000),
        Optional.empty()));
    replicaA.refreshStatus();
    replicaB.refreshStatus();
    await().atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() -> {
      GenericKubernetesResource resource = kubectl.genericKubernetesResources(
          TrafficSplits.CONTEXT).inNamespace(ns).withName("hello-app").get();
      Object status = resource.getAdditionalProperties().get("status");
      return status instanceof Map<?, ?> map && map.get("replicas") instanceof Map<?, ?> replicas
          && replicas.keySet().equals(java.util.Set.of("replica-a", "replica-b"))
          && versions(replicaA).get(ProxyKind.GATEWAY).routes()
              .equals(((Map<?, ?>) map.get("routesVersions")).get("gateway"));
    });
  }
}
