package dev.steelyard.rollout.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.it.RawAdsStream;
import dev.steelyard.kubernetes.RealApi;
import dev.steelyard.kubernetes.RealCluster;
import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.FlowRequest;
import dev.steelyard.rollout.Phase;
import dev.steelyard.rollout.RolloutEngine;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.source.StaticAppCatalog;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Flows against a real Kubernetes API server ({@link RealCluster}): the engine with the
 * Deployment driver, running as the shipped ServiceAccount (so {@code k8s/control-plane/rbac.yaml}
 * is proven enough), and this test as the Deployment controller: there is no controller manager,
 * so no pods, and the test writes {@code status} (ready = updated = {@code spec.replicas})
 * through the status subresource. No traffic is measured here; the Deployments are.
 */
@ExtendWith(RealApi.class)
class KubernetesRolloutTest {

  private final RealCluster cluster;
  private final KubernetesClient kubectl;
  private final String ns;
  private final AppKey app;
  /** The control plane's own client (the shipped ServiceAccount), recording its calls. */
  private KubernetesClient client;
  private final Set<String> calls = ConcurrentHashMap.newKeySet();
  private SteelyardServer server;
  private RolloutEvents events;
  private final AtomicBoolean controlling = new AtomicBoolean(true);
  private Thread controller;

  KubernetesRolloutTest(RealCluster cluster) {
    this.cluster = cluster;
    this.kubectl = cluster.admin();
    this.ns = cluster.newNamespace("rollout");
    this.app = new AppKey(ns, "hello-app");
  }

  @BeforeEach
  void start(@TempDir Path dir) throws Exception {
    kubectl.apps().deployments().inNamespace(ns).resource(new DeploymentBuilder()
        .withNewMetadata().withName("hello").withNamespace(ns).endMetadata()
        .withNewSpec().withReplicas(4)
        .withNewSelector().addToMatchLabels("app", "hello-app").addToMatchLabels("app-role",
            "main").endSelector()
        .withNewTemplate().withNewMetadata().addToLabels("app", "hello-app")
        .addToLabels("app-role", "main").endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("registry.example/hello:v1")
        .endContainer().addNewContainer().withName("proxy").withImage("envoy:1.34")
        .endContainer().endSpec().endTemplate()
        .endSpec().build()).create();
    Interceptor recorder = new Interceptor() {
      @Override
      public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
        calls.add(request.method() + " " + request.uri().getPath());
      }
    };
    client = new KubernetesClientBuilder()
        .withConfig(cluster.controlPlaneClient().getConfiguration())
        .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("calls", recorder))
        .build();
    controller = new Thread(this::control);
    controller.start();
    KubernetesWorkloads workloads = new KubernetesWorkloads(client, "app", "app-role",
        Optional.of("app"));
    ServerConfig config = ServerConfig.defaults(dir.resolve("data")).withBindHost("127.0.0.1")
        .withPorts(0, 0);
    server = new SteelyardServer(config, new StaticAppCatalog(List.of(new AppSpec(app, 8080,
        AppProtocol.GRPC, List.of(), Map.of())), "test"))
        .withWorkloads(workloads)
        .withFlowStore(new CanaryRolloutFlowStore(client, List.of(ns))).start();
    events = new RolloutEvents(client, workloads, "test-replica");
    engine().withHistoryListener(events);
  }

  /** The Deployment controller the test server lacks: every replica is ready and up to date. */
  private void control() {
    while (controlling.get()) {
      try {
        for (Deployment d : kubectl.apps().deployments().inNamespace(ns).list().getItems()) {
          int replicas = d.getSpec().getReplicas();
          if (d.getStatus() == null || d.getStatus().getReadyReplicas() == null
              || d.getStatus().getReadyReplicas() != replicas
              || d.getStatus().getReplicas() != replicas) {
            d.setStatus(new DeploymentStatusBuilder().withReplicas(replicas)
                .withReadyReplicas(replicas).withUpdatedReplicas(replicas)
                .withAvailableReplicas(replicas)
                .withObservedGeneration(d.getMetadata().getGeneration()).build());
            kubectl.apps().deployments().inNamespace(ns).resource(d).updateStatus();
          }
        }
        Thread.sleep(50);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        // a conflict with the engine's own write: try again on the next round
      }
    }
  }

  @AfterEach
  void stop() throws InterruptedException {
    controlling.set(false);
    controller.join();
    server.close();
    events.close();
    client.close();
  }

  private Deployment deployment(String name) {
    return kubectl.apps().deployments().inNamespace(ns).withName(name).get();
  }

  private static String image(Deployment d) {
    return d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
  }

  /** The Events recorded on {@code kind}/{@code name} in the test's namespace. */
  private List<Event> eventsOn(String kind, String name) {
    return kubectl.v1().events().inNamespace(ns).list().getItems().stream()
        .filter(e -> kind.equals(e.getInvolvedObject().getKind())
            && name.equals(e.getInvolvedObject().getName())).toList();
  }

  /** Every history entry of {@code flow} is an Event on {@code kind}/{@code name}. */
  private void awaitEventsOfHistory(Flow flow, String kind, String name, String uid) {
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      List<Event> recorded = eventsOn(kind, name);
      for (var entry : engine().latest(app).orElseThrow().history()) {
        assertThat(recorded).as("an Event for %s %s", entry.event(), entry.detail())
            .anySatisfy(e -> {
              assertThat(e.getReason()).isEqualTo(RolloutEvents.reason(entry.event()));
              assertThat(e.getMessage()).isEqualTo(entry.detail());
              assertThat(e.getType()).isEqualTo(RolloutEvents.type(entry));
            });
      }
      assertThat(recorded).allSatisfy(e -> {
        assertThat(e.getInvolvedObject().getUid()).isEqualTo(uid);
        assertThat(e.getInvolvedObject().getNamespace()).isEqualTo(ns);
        assertThat(e.getSource().getComponent()).isEqualTo("steelyard");
      });
    });
  }

  /** The flow as {@code status.flow} holds it. */
  static Flow storedFlow(io.fabric8.kubernetes.api.model.GenericKubernetesResource resource)
      throws java.io.IOException {
    return dev.steelyard.rollout.FlowStore.JSON.readValue(
        (String) CanaryRolloutFlowStore.status(resource).get("flow"), Flow.class);
  }

  private RolloutEngine engine() {
    return server.rollouts().orElseThrow();
  }

  private Flow awaitPhase(Phase phase, int step) {
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> engine().latest(app)
        .map(flow -> flow.phase() == phase && flow.step() == step).orElse(false));
    return engine().latest(app).orElseThrow();
  }

  @Test
  void aCanaryDeploySizesDeploymentsAtEveryStepAndPromotesMainsImage() throws Exception {
    engine().start(app, FlowRequest.deploy("v2", null, null), "test");
    int[][] replicas = {{4, 1, 1}, {4, 1, 1}, {3, 2, 2}, {1, 3, 3}};
    for (int step = 0; step < 4; step++) {
      awaitPhase(Phase.STEP_JUDGING, step);
      Deployment main = deployment("hello");
      Deployment baseline = deployment("hello-baseline");
      Deployment canary = deployment("hello-canary");
      assertThat(main.getSpec().getReplicas()).as("main at step %d", step + 1)
          .isEqualTo(replicas[step][0]);
      assertThat(baseline.getSpec().getReplicas()).isEqualTo(replicas[step][1]);
      assertThat(canary.getSpec().getReplicas()).isEqualTo(replicas[step][2]);
      assertThat(image(main)).isEqualTo("registry.example/hello:v1");
      assertThat(image(baseline)).isEqualTo("registry.example/hello:v1");
      assertThat(image(canary)).isEqualTo("registry.example/hello:v2");
      assertThat(canary.getSpec().getTemplate().getSpec().getContainers().get(1).getImage())
          .as("only the named container changes").isEqualTo("envoy:1.34");
      assertThat(canary.getSpec().getTemplate().getMetadata().getLabels())
          .containsEntry("app", "hello-app").containsEntry("app-role", "canary");
      assertThat(canary.getSpec().getSelector().getMatchLabels())
          .containsEntry("app-role", "canary");
      assertThat(baseline.getSpec().getTemplate().getMetadata().getLabels())
          .containsEntry("app-role", "baseline");
      assertThat(canary.getMetadata().getAnnotations())
          .containsEntry(KubernetesWorkloads.VERSION_ANNOTATION, "v2");
      assertThat(canary.getMetadata().getOwnerReferences()).as("started by REST: owned by "
          + "the CanaryRollout made for the flow").singleElement().satisfies(ref -> {
            assertThat(ref.getKind()).isEqualTo(CanaryRollouts.KIND);
            assertThat(ref.getName()).isEqualTo("hello-app-" + engine().active(app)
                .orElseThrow().id());
          });
      engine().approve(app, "test");
    }
    awaitPhase(Phase.PROMOTED, 3);
    assertThat(image(deployment("hello"))).isEqualTo("registry.example/hello:v2");
    assertThat(deployment("hello").getSpec().getReplicas()).isEqualTo(4);
    assertThat(deployment("hello-baseline").getSpec().getReplicas()).isZero();
    assertThat(deployment("hello-canary").getSpec().getReplicas()).isZero();

    engine().rollback(app, "test");
    awaitPhase(Phase.ROLLED_BACK, 3);
    assertThat(image(deployment("hello"))).isEqualTo("registry.example/hello:v1");
    assertThat(deployment("hello").getSpec().getReplicas()).isEqualTo(4);
    assertThat(deployment("hello-baseline").getSpec().getReplicas()).isZero();
    assertThat(image(deployment("hello-baseline"))).isEqualTo("registry.example/hello:v1");

    Flow flow = engine().latest(app).orElseThrow();
    // Started by REST, kept in a CanaryRollout made for it: kubectl get shows every flow.
    var made = kubectl.genericKubernetesResources(CanaryRollouts.API_VERSION,
        CanaryRollouts.KIND).inNamespace(ns).withName("hello-app-" + flow.id()).get();
    assertThat(made.getMetadata().getAnnotations())
        .containsEntry(CanaryRolloutFlowStore.FLOW_ID_ANNOTATION, flow.id());
    assertThat(CanaryRolloutFlowStore.status(made)).containsEntry("phase", "rolled-back")
        .containsEntry("flowId", flow.id());
    assertThat(storedFlow(made)).isEqualTo(flow);
    // Each history entry as an Event on that CanaryRollout (kubectl describe shows them).
    String name = made.getMetadata().getName();
    awaitEventsOfHistory(flow, CanaryRollouts.KIND, name, made.getMetadata().getUid());
    assertThat(eventsOn("Deployment", "hello")).as("none on main").isEmpty();
    List<Event> onResource = eventsOn(CanaryRollouts.KIND, name);
    assertThat(onResource).extracting(Event::getReason).contains("Started", "Scale", "Weight",
        "Phase", "Judgment", "Rollback");
    assertThat(onResource).filteredOn(e -> e.getReason().equals("Rollback")).singleElement()
        .satisfies(e -> assertThat(e.getType()).isEqualTo("Warning"));
    assertThat(onResource).filteredOn(e -> e.getReason().equals("Judgment"))
        .allSatisfy(e -> assertThat(e.getType()).isEqualTo("Normal"));
    // A repeated identical entry counts up on one Event instead of making another.
    var started = flow.history().get(0);
    events.recorded(flow, List.of(started, started));
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
        eventsOn(CanaryRollouts.KIND, name)).filteredOn(e -> e.getReason().equals("Started"))
        .singleElement().satisfies(e -> assertThat(e.getCount()).isEqualTo(3)));

    // What the driver asked the API server for, against k8s/control-plane/rbac.yaml (and the
    // server granted it: the client is the shipped ServiceAccount).
    controlling.set(false);
    controller.join();
    Set<String> verbs = new TreeSet<>();
    for (String call : calls) {
      String method = call.substring(0, call.indexOf(' '));
      String path = call.substring(call.indexOf(' ') + 1);
      if (path.contains("/deployments") && !path.endsWith("/status")) {
        String resource = path.endsWith("/scale") ? "deployments/scale" : "deployments";
        String verb = switch (method) {
          case "GET" -> path.endsWith("/deployments") ? "list" : "get";
          case "POST" -> "create";
          case "PUT" -> "update";
          case "PATCH" -> "patch";
          default -> method;
        };
        verbs.add(resource + " " + verb);
      }
    }
    System.out.println("Deployment calls: " + verbs);
    assertThat(verbs).containsExactlyInAnyOrder("deployments get", "deployments list",
        "deployments create", "deployments patch", "deployments/scale get",
        "deployments/scale update");
    assertThat(engine().driverError(app)).as("no refusal").isEmpty();
  }

  /**
   * The ACK wait covers the proxies of the app's kinds: this app has no gateway hosts, so a
   * gateway that never ACKs does not hold a step, while a sidecar that never ACKs does.
   */
  @Test
  void aStepWaitsForTheAppsProxyKindsOnly() throws Exception {
    String listeners = "type.googleapis.com/envoy.config.listener.v3.Listener";
    try (RawAdsStream gateway = new RawAdsStream(server.xdsPort(), "silent-gateway", "gateway")) {
      gateway.request(listeners, List.of());
      assertThat(gateway.next(10)).isNotNull();
      engine().start(app, new FlowRequest("deploy", "v2", null, List.of(10.0, 25.0), null, null, null,
          null, null, null, Duration.ofSeconds(2), null), "test");
      awaitPhase(Phase.STEP_JUDGING, 0);
      try (RawAdsStream sidecar = new RawAdsStream(server.xdsPort(), "silent-sidecar",
          "sidecar")) {
        sidecar.request(listeners, List.of());
        assertThat(sidecar.next(10)).isNotNull();
        engine().approve(app, "test");
        Flow paused = awaitPhase(Phase.STEP_ACK_PAUSED, 1);
        assertThat(paused.lagging()).anyMatch(p -> p.contains("silent-sidecar"))
            .noneMatch(p -> p.contains("silent-gateway"));
      }
    }
  }

  @Test
  void anEventMessageIsAtMostOneKibibyte() {
    String message = "é".repeat(2_000);
    String cut = RolloutEvents.truncate(message);
    assertThat(cut.getBytes(java.nio.charset.StandardCharsets.UTF_8).length)
        .isLessThanOrEqualTo(1024).isGreaterThan(1000);
    assertThat(cut).endsWith("...");
    assertThat(RolloutEvents.truncate("short")).isEqualTo("short");
    assertThat(RolloutEvents.reason("forced-split")).isEqualTo("ForcedSplit");
  }

  @Test
  void aCanaryTestCreatesTheCanaryAndScalesItToZeroAtTheEnd() throws Exception {
    engine().start(app, new FlowRequest("test", "registry.example/hello:rc1", null, null, null,
        null, 2, 5.0, null, null, null, null), "test");
    awaitPhase(Phase.TEST_RUNNING, 0);
    assertThat(image(deployment("hello-canary"))).isEqualTo("registry.example/hello:rc1");
    assertThat(deployment("hello-canary").getSpec().getReplicas()).isEqualTo(2);
    assertThat(deployment("hello-baseline")).isNull();
    assertThat(deployment("hello").getSpec().getReplicas()).as("main untouched").isEqualTo(4);
    engine().setWeight(app, 0, "test");
    awaitPhase(Phase.TEST_ENDED, 0);
    assertThat(deployment("hello-canary").getSpec().getReplicas()).isZero();
  }

  @Test
  @SuppressWarnings("unchecked")
  void aFlowStartsWhenACanaryRolloutIsAppliedAndItsStatusFollows() throws Exception {
    // The CRD is applied with the k8s/ manifests, so the API server validates the spec too.
    var resource = new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder()
        .withApiVersion(CanaryRollouts.API_VERSION).withKind(CanaryRollouts.KIND)
        .withNewMetadata().withName("hello-v2").withNamespace(ns).endMetadata()
        .build();
    resource.setAdditionalProperty("spec", Map.of("app", "hello-app", "kind", "deploy",
        "version", "v2", "steps", List.of(10, 50), "postPromotionWindow", "PT1H"));
    var resources = kubectl.genericKubernetesResources(CanaryRollouts.API_VERSION,
        CanaryRollouts.KIND).inNamespace(ns);
    resources.resource(resource).create();
    try (CanaryRollouts watcher = CanaryRollouts.start(client, engine(), 100, List.of(ns))) {
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
        Map<String, Object> status = (Map<String, Object>) resources.withName("hello-v2").get()
            .getAdditionalProperties().get("status");
        return "step-judging".equals(status.get("phase")) && status.get("step").equals(1)
            && String.valueOf(status.get("waitingFor")).contains("approval of step 1");
      });
      Flow flow = engine().active(app).orElseThrow();
      assertThat(flow.startedBy()).isEqualTo("CanaryRollout " + ns + "/hello-v2");
      assertThat(deployment("hello-canary").getSpec().getReplicas()).isEqualTo(1);
      // Owned by the resource, so deleting it lets the garbage collector remove them. This
      // server runs no controller manager, hence no garbage collector: the reference is what
      // can be checked here.
      String uid = resources.withName("hello-v2").get().getMetadata().getUid();
      for (String name : List.of("hello-baseline", "hello-canary")) {
        assertThat(deployment(name).getMetadata().getOwnerReferences()).as(name)
            .singleElement().satisfies(ref -> {
              assertThat(ref.getApiVersion()).isEqualTo(CanaryRollouts.API_VERSION);
              assertThat(ref.getKind()).isEqualTo(CanaryRollouts.KIND);
              assertThat(ref.getName()).isEqualTo("hello-v2");
              assertThat(ref.getUid()).isEqualTo(uid);
              assertThat(ref.getController()).isFalse();
              assertThat(ref.getBlockOwnerDeletion()).isFalse();
            });
      }
      assertThat(deployment("hello").getMetadata().getOwnerReferences()).as("main is the user's")
          .isNullOrEmpty();
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
          storedFlow(resources.withName("hello-v2").get())).as("status.flow")
          .isEqualTo(engine().active(app).orElseThrow()));
      // A GitOps or kubectl user approves on the resource: carried out once, then removed.
      resources.withName("hello-v2").edit(r -> {
        r.getMetadata().setAnnotations(Map.of(CanaryRollouts.APPROVE, "1"));
        return r;
      });
      awaitPhase(Phase.STEP_JUDGING, 1);
      await().atMost(Duration.ofSeconds(10)).until(() -> resources.withName("hello-v2").get()
          .getMetadata().getAnnotations() == null || !resources.withName("hello-v2").get()
          .getMetadata().getAnnotations().containsKey(CanaryRollouts.APPROVE));
      assertThat(engine().active(app).orElseThrow().history()).filteredOn(e -> e.event()
          .equals("approve")).singleElement().satisfies(e -> assertThat(e.by())
          .startsWith("annotation steelyard.dev/approve=1 on CanaryRollout " + ns
              + "/hello-v2"));
      engine().approve(app, "test");
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> "promoted".equals(
          ((Map<String, Object>) resources.withName("hello-v2").get().getAdditionalProperties()
              .get("status")).get("phase")));
      assertThat(image(deployment("hello"))).isEqualTo("registry.example/hello:v2");
      assertThat(engine().history(app).stream().filter(e -> e.event().equals("started")))
          .as("one resource, one flow").hasSize(1);
      // Its history as Events on the resource, which kubectl describe shows.
      awaitEventsOfHistory(engine().latest(app).orElseThrow(), CanaryRollouts.KIND, "hello-v2",
          uid);
      assertThat(eventsOn("Deployment", "hello")).as("none on main").isEmpty();
    }
  }
}
