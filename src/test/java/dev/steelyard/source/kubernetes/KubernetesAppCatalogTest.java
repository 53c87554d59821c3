package dev.steelyard.source.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.kubernetes.RealApi;
import dev.steelyard.kubernetes.RealCluster;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The informer catalog against a real API server ({@link RealCluster}), running as the
 * ServiceAccount {@code k8s/} ships with exactly its ClusterRole. Each test has namespaces of its
 * own. Pods get their status (IP, Ready) through the status subresource, as from a kubelet; the
 * server, not the mock, evaluates the informers' label selectors and namespaces.
 */
@ExtendWith(RealApi.class)
class KubernetesAppCatalogTest {

  private static final Duration SYNC = Duration.ofSeconds(30);

  private final RealCluster cluster;
  private final KubernetesClient kubectl;
  private final String ns;
  private final AppKey hello;
  private KubernetesClient controlPlane;
  private KubernetesAppCatalog catalog;
  private final AtomicInteger changes = new AtomicInteger();

  KubernetesAppCatalogTest(RealCluster cluster) {
    this.cluster = cluster;
    this.kubectl = cluster.admin();
    this.ns = cluster.newNamespace("discovery");
    this.hello = new AppKey(ns, "hello-app");
  }

  @BeforeEach
  void client() {
    controlPlane = cluster.controlPlaneClient();
  }

  @AfterEach
  void stop() {
    if (catalog != null) {
      catalog.close();
    }
    controlPlane.close();
  }

  private KubernetesSourceSettings inThisNamespace() {
    return new KubernetesSourceSettings("app", "app-role", List.of(ns));
  }

  private void startCatalog(KubernetesSourceSettings settings) throws Exception {
    catalog = KubernetesAppCatalog.start(controlPlane, settings, SYNC);
    catalog.onChange(changes::incrementAndGet);
  }

  private void helloService(IntOrString targetPort) {
    kubectl.services().resource(
        KubeObjects.service(ns, "hello-app", "app", 80, targetPort, "grpc")).create();
  }

  private Pod createPod(String name, String role, String ip, boolean ready) {
    return cluster.createPod(KubeObjects.pod(ns, name, RealCluster.labels("hello-app", role), ip,
        ready, Map.of("grpc", 9000)));
  }

  private Optional<AppSpec> hello() {
    return catalog.apps().stream().filter(app -> app.key().equals(hello)).findFirst();
  }

  private List<Endpoint> endpoints(SubsetRole role) {
    return hello().map(app -> app.endpoints(role)).orElse(List.of());
  }

  @Test
  void servicePortsNamesAndReadyPodsBecomeTheApp() throws Exception {
    helloService(new IntOrString(9000));
    createPod("main-1", "main", "10.0.0.1", true);
    createPod("main-2", "main", "10.0.0.2", false);
    createPod("canary-1", "canary", "10.0.0.3", true);
    startCatalog(inThisNamespace());

    AppSpec app = hello().orElseThrow();
    assertThat(app.port()).isEqualTo(80);
    assertThat(app.protocol()).isEqualTo(AppProtocol.GRPC);
    assertThat(app.gatewayHosts()).containsExactly("hello-app.example.com");
    assertThat(app.endpoints(SubsetRole.MAIN)).containsExactly(new Endpoint("10.0.0.1", 9000));
    assertThat(app.endpoints(SubsetRole.CANARY)).containsExactly(new Endpoint("10.0.0.3", 9000));
    assertThat(app.endpoints(SubsetRole.BASELINE)).isEmpty();
  }

  @Test
  void podsMoveInAndOutWithReadinessAndLeaveWhenTerminatingOrDeleted() throws Exception {
    helloService(new IntOrString(9000));
    startCatalog(inThisNamespace());
    createPod("main-1", "main", "10.0.0.1", false);
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
        .until(() -> endpoints(SubsetRole.MAIN).isEmpty());

    cluster.setReady(ns, "main-1", true);
    await().atMost(Duration.ofSeconds(5))
        .until(() -> endpoints(SubsetRole.MAIN).equals(List.of(new Endpoint("10.0.0.1", 9000))));
    cluster.setReady(ns, "main-1", false);
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.MAIN).isEmpty());

    // A finalizer keeps the deleted pod around, terminating, as a graceful shutdown does.
    Pod terminating = KubeObjects.pod(ns, "main-2", RealCluster.labels("hello-app", "main"),
        "10.0.0.2", true, Map.of());
    terminating.getMetadata().setFinalizers(List.of("steelyard.dev/test"));
    cluster.createPod(terminating);
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.MAIN).size() == 1);
    kubectl.pods().inNamespace(ns).withName("main-2").delete();
    await().atMost(Duration.ofSeconds(5)).until(() -> kubectl.pods().inNamespace(ns)
        .withName("main-2").get().getMetadata().getDeletionTimestamp() != null);
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.MAIN).isEmpty());
    kubectl.pods().inNamespace(ns).withName("main-2").edit(pod -> new PodBuilder(pod)
        .editMetadata().withFinalizers(List.of()).endMetadata().build());

    createPod("main-3", "main", "10.0.0.3", true);
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.MAIN).size() == 1);
    // No kubelet: a pod bound to no node is deleted at once, as the API server does for those.
    kubectl.pods().inNamespace(ns).withName("main-3").delete();
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.MAIN).isEmpty());
  }

  @Test
  void aRoleLabelChangeMovesThePodBetweenSubsets() throws Exception {
    helloService(new IntOrString(9000));
    createPod("pod-1", "canary", "10.0.0.7", true);
    startCatalog(inThisNamespace());
    assertThat(endpoints(SubsetRole.CANARY)).hasSize(1);

    kubectl.pods().inNamespace(ns).withName("pod-1").edit(pod -> new PodBuilder(pod)
        .editMetadata().addToLabels("app-role", "baseline").endMetadata().build());
    await().atMost(Duration.ofSeconds(5))
        .until(() -> endpoints(SubsetRole.BASELINE).size() == 1);
    assertThat(endpoints(SubsetRole.CANARY)).isEmpty();

    kubectl.pods().inNamespace(ns).withName("pod-1").edit(pod -> new PodBuilder(pod)
        .editMetadata().addToLabels("app-role", "blue").endMetadata().build());
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.BASELINE).isEmpty());
  }

  @Test
  void aNamedTargetPortIsLookedUpInEachPod() throws Exception {
    helloService(new IntOrString("grpc"));
    cluster.createPod(KubeObjects.pod(ns, "a", RealCluster.labels("hello-app", "main"),
        "10.0.0.1", true, Map.of("grpc", 9000)));
    cluster.createPod(KubeObjects.pod(ns, "b", RealCluster.labels("hello-app", "main"),
        "10.0.0.2", true, Map.of("grpc", 9100, "metrics", 9090)));
    cluster.createPod(KubeObjects.pod(ns, "c", RealCluster.labels("hello-app", "main"),
        "10.0.0.3", true, Map.of("http", 8080)));
    startCatalog(inThisNamespace());

    assertThat(endpoints(SubsetRole.MAIN)).containsExactly(
        new Endpoint("10.0.0.1", 9000), new Endpoint("10.0.0.2", 9100));
  }

  @Test
  void onlyTheConfiguredNamespacesAndLabelKeysCount() throws Exception {
    String teamA = cluster.newNamespace("team-a");
    String teamB = cluster.newNamespace("team-b");
    for (String namespace : List.of(teamA, teamB)) {
      kubectl.services().resource(KubeObjects.service(namespace, "web", "hpcnt.com/app", 8080,
          new IntOrString(8080), "http")).create();
      cluster.createPod(KubeObjects.pod(namespace, "web-1",
          Map.of("hpcnt.com/app", "web", "hpcnt.com/app-role", "main"),
          namespace.equals(teamA) ? "10.1.0.1" : "10.2.0.1", true, Map.of()));
    }
    // Pods with the default keys are not part of this mesh.
    helloService(new IntOrString(9000));
    createPod("main-1", "main", "10.0.0.1", true);
    startCatalog(new KubernetesSourceSettings("hpcnt.com/app", "hpcnt.com/app-role",
        List.of(teamA, ns)));

    assertThat(catalog.apps()).extracting(AppSpec::key)
        .containsExactly(new AppKey(teamA, "web"));
    AppSpec web = catalog.apps().get(0);
    assertThat(web.protocol()).isEqualTo(AppProtocol.HTTP);
    assertThat(web.endpoints(SubsetRole.MAIN)).containsExactly(new Endpoint("10.1.0.1", 8080));
  }

  @Test
  void allNamespacesIsOneClusterWideWatch() throws Exception {
    String other = cluster.newNamespace("other");
    helloService(new IntOrString(9000));
    createPod("main-1", "main", "10.0.0.1", true);
    kubectl.services().resource(KubeObjects.service(other, "hello-app", "app", 80,
        new IntOrString(9000), "grpc")).create();
    cluster.createPod(KubeObjects.pod(other, "main-1", RealCluster.labels("hello-app", "main"),
        "10.0.1.1", true, Map.of()));
    startCatalog(KubernetesSourceSettings.DEFAULTS);

    assertThat(endpoints(SubsetRole.MAIN)).containsExactly(new Endpoint("10.0.0.1", 9000));
    assertThat(catalog.apps().stream().filter(app -> app.key().equals(new AppKey(other,
        "hello-app"))).findFirst().orElseThrow().endpoints(SubsetRole.MAIN))
        .containsExactly(new Endpoint("10.0.1.1", 9000));
  }

  @Test
  void aServiceSelectingOnTheAppLabelWithoutRolePodsOrAnnotationIsNoApp() throws Exception {
    kubectl.services().resource(new ServiceBuilder(
            KubeObjects.service(ns, "legacy", "app", 80, new IntOrString(80), "http"))
        .editMetadata().withAnnotations(Map.of()).endMetadata().build()).create();
    cluster.createPod(KubeObjects.pod(ns, "legacy-1", Map.of("app", "legacy"),
        "10.0.9.1", true, Map.of()));
    // Opted in by annotation, with no pods yet: an app with empty subsets.
    helloService(new IntOrString(9000));
    startCatalog(inThisNamespace());

    assertThat(catalog.apps()).extracting(AppSpec::key).containsExactly(hello);
    cluster.createPod(KubeObjects.pod(ns, "legacy-2",
        Map.of("app", "legacy", "app-role", "main"), "10.0.9.2", false, Map.of()));
    await().atMost(Duration.ofSeconds(5)).until(() -> catalog.apps().size() == 2);
  }

  @Test
  void eventsThatChangeNothingTheMeshSeesDoNotAskForAPublish() throws Exception {
    helloService(new IntOrString(9000));
    createPod("main-1", "main", "10.0.0.1", true);
    startCatalog(inThisNamespace());
    int before = changes.get();

    kubectl.pods().inNamespace(ns).withName("main-1").edit(pod -> new PodBuilder(pod)
        .editMetadata().addToAnnotations("touched", "yes").endMetadata().build());
    createPod("main-2", "main", "10.0.0.2", true);
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.MAIN).size() == 2);
    // Only the new pod counted (its create and its status write: two events, one change of
    // facts each time); the annotation edit was dropped by the catalog.
    assertThat(changes.get() - before).isBetween(1, 2);
  }

  /**
   * The pod informer asks for pods that have the app label at all (an existence selector, which
   * the mock ignores): the server never sends the others, so they wake nothing.
   */
  @Test
  void podsWithoutTheAppLabelNeverReachTheCatalog() throws Exception {
    helloService(new IntOrString(9000));
    startCatalog(inThisNamespace());
    int before = changes.get();
    for (int i = 0; i < 5; i++) {
      cluster.createPod(KubeObjects.pod(ns, "unlabelled-" + i, Map.of("app-role", "main"),
          "10.0.5." + (i + 1), true, Map.of()));
    }
    createPod("main-1", "main", "10.0.0.1", true);
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.MAIN).size() == 1);
    assertThat(changes.get() - before).isBetween(1, 2);
  }
}
