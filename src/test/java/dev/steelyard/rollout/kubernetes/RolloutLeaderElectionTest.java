package dev.steelyard.rollout.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.steelyard.kubernetes.RealApi;
import dev.steelyard.kubernetes.RealCluster;
import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.FlowException;
import dev.steelyard.rollout.FlowRequest;
import dev.steelyard.rollout.Phase;
import dev.steelyard.rollout.RolloutEngine;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.source.StaticAppCatalog;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas, one driver, against a real API server ({@link RealCluster}) as the shipped
 * ServiceAccount: a Lease decides which replica drives; flows live in the CanaryRollouts'
 * status, not in a shared volume (each replica has a data directory of its own, and neither
 * holds a {@code rollouts.json}). When the leader goes away the other one is elected, loads the
 * flow from the cluster and goes on where it was, with approvals given by annotation. The test
 * is the Deployment controller the test API server lacks.
 */
@ExtendWith(RealApi.class)
class RolloutLeaderElectionTest {

  private final RealCluster cluster;
  private final KubernetesClient kubectl;
  private final String ns;
  private final AppKey app;
  private final AtomicBoolean controlling = new AtomicBoolean(true);
  /** While false, the controller leaves Deployments unready: a step stays mid-scaling. */
  private final AtomicBoolean ready = new AtomicBoolean(true);
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private Thread controller;

  RolloutLeaderElectionTest(RealCluster cluster) {
    this.cluster = cluster;
    this.kubectl = cluster.admin();
    this.ns = cluster.newNamespace("leader");
    this.app = new AppKey(ns, "hello-app");
  }

  @BeforeEach
  void start() {
    kubectl.apps().deployments().inNamespace(ns).resource(new DeploymentBuilder()
        .withNewMetadata().withName("hello").withNamespace(ns).endMetadata()
        .withNewSpec().withReplicas(2)
        .withNewSelector().addToMatchLabels("app", "hello-app")
        .addToMatchLabels("app-role", "main").endSelector()
        .withNewTemplate().withNewMetadata().addToLabels("app", "hello-app")
        .addToLabels("app-role", "main").endMetadata()
        .withNewSpec().addNewContainer().withName("app").withImage("hello:v1").endContainer()
        .endSpec().endTemplate().endSpec().build()).create();
    controller = new Thread(this::control);
    controller.start();
  }

  private void control() {
    while (controlling.get()) {
      try {
        if (ready.get()) {
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
        }
        Thread.sleep(50);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        // a conflict with the engine's own write: next round
      }
    }
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
    controlling.set(false);
    controller.join();
  }

  /** One control-plane replica: its server, CanaryRollout loop and election, as serve runs. */
  private final class Replica implements AutoCloseable {
    final String identity;
    final Path dataDir;
    final SteelyardServer server;
    final CanaryRollouts rollouts;
    final RolloutLeaderElection election;
    boolean closed;

    Replica(String identity, Path dataDir) throws Exception {
      this.identity = identity;
      this.dataDir = dataDir;
      KubernetesClient client = cluster.controlPlaneClient();
      server = new SteelyardServer(ServerConfig.defaults(dataDir).withBindHost("127.0.0.1")
          .withPorts(0, 0), new StaticAppCatalog(List.of(new AppSpec(app, 8080,
              AppProtocol.GRPC, List.of(), Map.of())), "test"))
          .withWorkloads(new KubernetesWorkloads(client, "app", "app-role", Optional.empty()))
          .withElectedRollouts()
          .withFlowStore(new CanaryRolloutFlowStore(client, List.of(ns)))
          .start();
      rollouts = CanaryRollouts.start(client, engine(), 100, List.of(ns));
      election = RolloutLeaderElection.start(client, ns, identity, engine(),
          Duration.ofSeconds(3));
      toClose.add(this);
    }

    RolloutEngine engine() {
      return server.rollouts().orElseThrow();
    }

    /** As on SIGTERM: the election is cancelled (the Lease released), then the rest. */
    @Override
    public void close() {
      if (!closed) {
        closed = true;
        election.close();
        rollouts.close();
        server.close();
      }
    }
  }

  private GenericKubernetesResource resource(String name) {
    return kubectl.genericKubernetesResources(CanaryRollouts.API_VERSION, CanaryRollouts.KIND)
        .inNamespace(ns).withName(name).get();
  }

  private void annotate(String name, String key, String value) {
    kubectl.genericKubernetesResources(CanaryRollouts.API_VERSION, CanaryRollouts.KIND)
        .inNamespace(ns).withName(name).edit(r -> {
          Map<String, String> annotations = r.getMetadata().getAnnotations() == null
              ? new HashMap<>() : new HashMap<>(r.getMetadata().getAnnotations());
          annotations.put(key, value);
          r.getMetadata().setAnnotations(annotations);
          return r;
        });
  }

  private boolean annotated(String name, String key) {
    Map<String, String> annotations = resource(name).getMetadata().getAnnotations();
    return annotations != null && annotations.containsKey(key);
  }

  /** The flow as the cluster holds it: what a newly elected replica resumes from. */
  private Flow stored(String name) throws Exception {
    return KubernetesRolloutTest.storedFlow(resource(name));
  }

  private static Flow awaitPhase(RolloutEngine engine, AppKey app, Phase phase, int step) {
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> engine.latest(app)
        .map(flow -> flow.phase() == phase && flow.step() == step).orElse(false));
    return engine.latest(app).orElseThrow();
  }

  private Deployment deployment(String name) {
    return kubectl.apps().deployments().inNamespace(ns).withName(name).get();
  }

  @Test
  void theOtherReplicaTakesOverFromTheClusterAndAnAnnotatedApprovalMovesItOn(
      @TempDir Path dir) throws Exception {
    Replica a = new Replica("replica-a", Files.createDirectories(dir.resolve("a")));
    Replica b = new Replica("replica-b", Files.createDirectories(dir.resolve("b")));
    await().atMost(Duration.ofSeconds(20)).until(() -> a.engine().leading()
        || b.engine().leading());
    Replica leader = a.engine().leading() ? a : b;
    Replica follower = leader == a ? b : a;
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
        .until(() -> !follower.engine().leading());

    // The follower refuses, naming the leader once it has read the Lease.
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThatThrownBy(() -> follower.engine().start(app,
            FlowRequest.deploy("v2", List.of(20.0, 50.0), null), "test"))
            .isInstanceOf(FlowException.class)
            .hasMessageContaining("the leader is " + leader.identity));
    Flow started = leader.engine().start(app, FlowRequest.deploy("v2", List.of(20.0, 50.0),
        null), "test");
    String name = "hello-app-" + started.id();
    awaitPhase(leader.engine(), app, Phase.STEP_JUDGING, 0);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(stored(name))
        .as("status.flow of " + name).isEqualTo(leader.engine().latest(app).orElseThrow()));
    assertThat(follower.engine().active(app)).as("the follower reads the cluster")
        .map(Flow::phase).contains(Phase.STEP_JUDGING);
    assertThatThrownBy(() -> follower.engine().approve(app, "test"))
        .hasMessageContaining("does not drive rollout flows");
    assertThat(deployment("hello-canary").getSpec().getReplicas()).isEqualTo(1);

    leader.close();
    await().atMost(Duration.ofSeconds(20)).until(() -> follower.engine().leading());
    annotate(name, CanaryRollouts.APPROVE, "1");
    Flow second = awaitPhase(follower.engine(), app, Phase.STEP_JUDGING, 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> !annotated(name, CanaryRollouts.APPROVE));
    assertThat(second.history()).filteredOn(e -> e.event().equals("approve")).singleElement()
        .satisfies(e -> assertThat(e.by()).startsWith(
            "annotation steelyard.dev/approve=1 on CanaryRollout " + ns + "/" + name));
    assertThat(second.history().get(0)).as("the history made by the first leader")
        .isEqualTo(started.history().get(0));
    assertThat(deployment("hello-canary").getSpec().getReplicas()).isEqualTo(2);

    // A stale or wrong step number is refused with a message and removed, and approves nothing.
    annotate(name, CanaryRollouts.APPROVE, "7");
    await().atMost(Duration.ofSeconds(10)).until(() -> !annotated(name, CanaryRollouts.APPROVE));
    assertThat(CanaryRolloutFlowStore.status(resource(name)).get("message")).asString()
        .contains("steelyard.dev/approve=7 refused").contains("1 to 2");
    assertThat(follower.engine().active(app).orElseThrow().phase())
        .isEqualTo(Phase.STEP_JUDGING);

    annotate(name, CanaryRollouts.APPROVE, "2");
    awaitPhase(follower.engine(), app, Phase.PROMOTED, 1);
    assertThat(deployment("hello").getSpec().getTemplate().getSpec().getContainers().get(0)
        .getImage()).isEqualTo("hello:v2");
    assertThat(deployment("hello-canary").getSpec().getReplicas()).isZero();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
        CanaryRolloutFlowStore.status(resource(name))).containsEntry("phase", "promoted"));
    assertThat(follower.engine().history(app)).filteredOn(e -> e.event().equals("approve"))
        .hasSize(2);
    for (Replica replica : List.of(a, b)) {
      assertThat(replica.dataDir.resolve("rollouts.json")).as("no flow in " + replica.identity
          + "'s data directory").doesNotExist();
    }
  }

  @Test
  void aReplicaRestartedMidStepResumesFromTheCluster(@TempDir Path dir) throws Exception {
    Replica first = new Replica("replica-1", Files.createDirectories(dir.resolve("1")));
    await().atMost(Duration.ofSeconds(20)).until(() -> first.engine().leading());
    Flow started = first.engine().start(app, FlowRequest.deploy("v2", List.of(20.0, 50.0),
        null), "test");
    String name = "hello-app-" + started.id();
    awaitPhase(first.engine(), app, Phase.STEP_JUDGING, 0);
    // Step 2 begins, and its Deployments do not get ready: the replica stops mid-step.
    ready.set(false);
    first.engine().approve(app, "test");
    awaitPhase(first.engine(), app, Phase.STEP_SCALING, 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> stored(name).phase()
        == Phase.STEP_SCALING);
    first.close();

    Replica second = new Replica("replica-2", Files.createDirectories(dir.resolve("2")));
    await().atMost(Duration.ofSeconds(20)).until(() -> second.engine().leading());
    assertThat(second.engine().active(app)).as("loaded from the cluster")
        .map(f -> f.phase() + " " + f.step()).contains(Phase.STEP_SCALING + " 1");
    // Step 2 approved before its gate opens: the annotation waits (rounds run every 100 ms).
    annotate(name, CanaryRollouts.APPROVE, "2");
    await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(3))
        .until(() -> annotated(name, CanaryRollouts.APPROVE));
    assertThat(second.engine().active(app).orElseThrow().approvedStep()).isZero();
    ready.set(true);
    Flow promoted = awaitPhase(second.engine(), app, Phase.PROMOTED, 1);
    assertThat(promoted.history()).filteredOn(e -> e.event().equals("approve")).last()
        .satisfies(e -> assertThat(e.by()).startsWith("annotation steelyard.dev/approve=2"));
    await().atMost(Duration.ofSeconds(10)).until(() -> !annotated(name, CanaryRollouts.APPROVE));
    assertThat(deployment("hello").getSpec().getTemplate().getSpec().getContainers().get(0)
        .getImage()).isEqualTo("hello:v2");

    // Rolled back from the post-promotion window by annotation, the reason in its value.
    annotate(name, CanaryRollouts.ROLLBACK, "latency");
    awaitPhase(second.engine(), app, Phase.ROLLED_BACK, 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> !annotated(name,
        CanaryRollouts.ROLLBACK));
    assertThat(second.engine().latest(app).orElseThrow().history())
        .filteredOn(e -> e.event().equals("rollback")).singleElement()
        .satisfies(e -> assertThat(e.by()).startsWith("annotation steelyard.dev/rollback="
            + "latency on CanaryRollout " + ns + "/" + name));
    assertThat(deployment("hello").getSpec().getTemplate().getSpec().getContainers().get(0)
        .getImage()).isEqualTo("hello:v1");
    assertThat(deployment("hello-canary").getSpec().getReplicas()).isZero();
    assertThat(stored(name).phase()).isEqualTo(Phase.ROLLED_BACK);
  }
}
