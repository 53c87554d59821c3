package dev.steelyard.source.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The informer catalog against fabric8's mock API server (see {@link MockCluster} for limits). */
class KubernetesAppCatalogTest {

  private static final AppKey HELLO = new AppKey("default", "hello-app");
  private static final Duration SYNC = Duration.ofSeconds(10);

  private MockCluster cluster;
  private KubernetesClient client;
  private KubernetesAppCatalog catalog;
  private final AtomicInteger changes = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    cluster = new MockCluster();
    client = cluster.client();
  }

  @AfterEach
  void stop() {
    if (catalog != null) {
      catalog.close();
    }
    cluster.close();
  }

  private void startCatalog(KubernetesSourceSettings settings) throws Exception {
    catalog = KubernetesAppCatalog.start(client, settings, SYNC);
    catalog.onChange(changes::incrementAndGet);
  }

  private static Map<String, String> labels(String app, String role) {
    return Map.of("app", app, "app-role", role);
  }

  private void helloService(IntOrString targetPort) {
    client.services().resource(
        MockCluster.service("default", "hello-app", "app", 80, targetPort, "grpc")).create();
  }

  private Pod createPod(String name, String role, String ip, boolean ready) {
    return client.pods().resource(MockCluster.pod("default", name, labels("hello-app", role), ip,
        ready, Map.of("grpc", 9000))).create();
  }

  private Optional<AppSpec> hello() {
    return catalog.apps().stream().filter(app -> app.key().equals(HELLO)).findFirst();
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
    startCatalog(KubernetesSourceSettings.DEFAULTS);

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
    startCatalog(KubernetesSourceSettings.DEFAULTS);
    createPod("main-1", "main", "10.0.0.1", false);
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
        .until(() -> endpoints(SubsetRole.MAIN).isEmpty());

    client.pods().inNamespace("default").withName("main-1").editStatus(pod -> new PodBuilder(pod)
        .editStatus().editFirstCondition().withStatus("True").endCondition().endStatus().build());
    await().atMost(Duration.ofSeconds(5))
        .until(() -> endpoints(SubsetRole.MAIN).equals(List.of(new Endpoint("10.0.0.1", 9000))));

    client.pods().inNamespace("default").withName("main-1").editStatus(pod -> new PodBuilder(pod)
        .editStatus().editFirstCondition().withStatus("False").endCondition().endStatus().build());
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.MAIN).isEmpty());

    // A finalizer keeps the deleted pod around, terminating, as a graceful shutdown does.
    Pod terminating = MockCluster.pod("default", "main-2", labels("hello-app", "main"),
        "10.0.0.2", true, Map.of());
    terminating.getMetadata().setFinalizers(List.of("steelyard.dev/test"));
    client.pods().resource(terminating).create();
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.MAIN).size() == 1);
    client.pods().inNamespace("default").withName("main-2").delete();
    await().atMost(Duration.ofSeconds(5)).until(() -> client.pods().inNamespace("default")
        .withName("main-2").get().getMetadata().getDeletionTimestamp() != null);
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.MAIN).isEmpty());

    createPod("main-3", "main", "10.0.0.3", true);
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.MAIN).size() == 1);
    client.pods().inNamespace("default").withName("main-3").delete();
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.MAIN).isEmpty());
  }

  @Test
  void aRoleLabelChangeMovesThePodBetweenSubsets() throws Exception {
    helloService(new IntOrString(9000));
    createPod("pod-1", "canary", "10.0.0.7", true);
    startCatalog(KubernetesSourceSettings.DEFAULTS);
    assertThat(endpoints(SubsetRole.CANARY)).hasSize(1);

    client.pods().inNamespace("default").withName("pod-1").edit(pod -> new PodBuilder(pod)
        .editMetadata().addToLabels("app-role", "baseline").endMetadata().build());
    await().atMost(Duration.ofSeconds(5))
        .until(() -> endpoints(SubsetRole.BASELINE).size() == 1);
    assertThat(endpoints(SubsetRole.CANARY)).isEmpty();

    client.pods().inNamespace("default").withName("pod-1").edit(pod -> new PodBuilder(pod)
        .editMetadata().addToLabels("app-role", "blue").endMetadata().build());
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.BASELINE).isEmpty());
  }

  @Test
  void aNamedTargetPortIsLookedUpInEachPod() throws Exception {
    helloService(new IntOrString("grpc"));
    client.pods().resource(MockCluster.pod("default", "a", labels("hello-app", "main"),
        "10.0.0.1", true, Map.of("grpc", 9000))).create();
    client.pods().resource(MockCluster.pod("default", "b", labels("hello-app", "main"),
        "10.0.0.2", true, Map.of("grpc", 9100, "metrics", 9090))).create();
    client.pods().resource(MockCluster.pod("default", "c", labels("hello-app", "main"),
        "10.0.0.3", true, Map.of("http", 8080))).create();
    startCatalog(KubernetesSourceSettings.DEFAULTS);

    assertThat(endpoints(SubsetRole.MAIN)).containsExactly(
        new Endpoint("10.0.0.1", 9000), new Endpoint("10.0.0.2", 9100));
  }

  @Test
  void onlyTheConfiguredNamespacesAndLabelKeysCount() throws Exception {
    for (String namespace : List.of("team-a", "team-b")) {
      client.services().resource(MockCluster.service(namespace, "web", "hpcnt.com/app", 8080,
          new IntOrString(8080), "http")).create();
      client.pods().resource(MockCluster.pod(namespace, "web-1",
          Map.of("hpcnt.com/app", "web", "hpcnt.com/app-role", "main"),
          namespace.equals("team-a") ? "10.1.0.1" : "10.2.0.1", true, Map.of())).create();
    }
    // Pods with the default keys are not part of this mesh.
    helloService(new IntOrString(9000));
    createPod("main-1", "main", "10.0.0.1", true);
    startCatalog(new KubernetesSourceSettings("hpcnt.com/app", "hpcnt.com/app-role",
        List.of("team-a", "default")));

    assertThat(catalog.apps()).extracting(AppSpec::key)
        .containsExactly(new AppKey("team-a", "web"));
    AppSpec web = catalog.apps().get(0);
    assertThat(web.protocol()).isEqualTo(AppProtocol.HTTP);
    assertThat(web.endpoints(SubsetRole.MAIN)).containsExactly(new Endpoint("10.1.0.1", 8080));
  }

  @Test
  void aServiceSelectingOnTheAppLabelWithoutRolePodsOrAnnotationIsNoApp() throws Exception {
    client.services().resource(new io.fabric8.kubernetes.api.model.ServiceBuilder(
            MockCluster.service("default", "legacy", "app", 80, new IntOrString(80), "http"))
        .editMetadata().withAnnotations(Map.of()).endMetadata().build()).create();
    client.pods().resource(MockCluster.pod("default", "legacy-1", Map.of("app", "legacy"),
        "10.0.9.1", true, Map.of())).create();
    // Opted in by annotation, with no pods yet: an app with empty subsets.
    helloService(new IntOrString(9000));
    startCatalog(KubernetesSourceSettings.DEFAULTS);

    assertThat(catalog.apps()).extracting(AppSpec::key).containsExactly(HELLO);
    client.pods().resource(MockCluster.pod("default", "legacy-2",
        Map.of("app", "legacy", "app-role", "main"), "10.0.9.2", false, Map.of())).create();
    await().atMost(Duration.ofSeconds(5)).until(() -> catalog.apps().size() == 2);
  }

  @Test
  void eventsThatChangeNothingTheMeshSeesDoNotAskForAPublish() throws Exception {
    helloService(new IntOrString(9000));
    createPod("main-1", "main", "10.0.0.1", true);
    startCatalog(KubernetesSourceSettings.DEFAULTS);
    int before = changes.get();

    client.pods().inNamespace("default").withName("main-1").edit(pod -> new PodBuilder(pod)
        .editMetadata().addToAnnotations("touched", "yes").endMetadata().build());
    createPod("main-2", "main", "10.0.0.2", true);
    await().atMost(Duration.ofSeconds(5)).until(() -> endpoints(SubsetRole.MAIN).size() == 2);
    // Only the new pod counted; the annotation edit was dropped by the catalog.
    assertThat(changes.get() - before).isEqualTo(1);
  }

  @Test
  void whileTheApiServerIsGoneTheLastAppsAreServedAndTheErrorSaysSo() throws Exception {
    helloService(new IntOrString(9000));
    createPod("main-1", "main", "10.0.0.1", true);
    startCatalog(KubernetesSourceSettings.DEFAULTS);
    List<AppSpec> before = catalog.apps();
    assertThat(catalog.lastError()).isEmpty();

    try {
      cluster.server().shutdown();
    } catch (IllegalStateException e) {
      // The mock's Vert.x sometimes takes longer than its 10 s to close; it is closing anyway.
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> catalog.lastError().isPresent());
    assertThat(catalog.lastError().get()).contains("serving the last known endpoints");
    assertThat(catalog.apps()).isEqualTo(before);
  }
}
