package dev.steelyard.rollout.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.steelyard.rollout.FlowException;
import dev.steelyard.rollout.FlowRequest;
import dev.steelyard.rollout.Phase;
import dev.steelyard.rollout.RolloutEngine;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.source.StaticAppCatalog;
import dev.steelyard.source.kubernetes.MockCluster;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two replicas, one driver: both run an engine on the same flow store (a shared volume) and the
 * same Deployments; a Lease decides which one drives. The follower refuses commands; when the
 * leader goes away the follower takes the flow over where it was and finishes it.
 */
class RolloutLeaderElectionTest {

  private static final AppKey APP = new AppKey("default", "hello-app");

  @Test
  void oneReplicaDrivesAndTheOtherTakesOverWhereItWas(@TempDir Path dir) throws Exception {
    try (MockCluster cluster = new MockCluster()) {
      KubernetesClient client = cluster.client();
      client.apps().deployments().inNamespace("default").resource(new DeploymentBuilder()
          .withNewMetadata().withName("hello").withNamespace("default").endMetadata()
          .withNewSpec().withReplicas(2)
          .withNewSelector().addToMatchLabels("app", "hello-app")
          .addToMatchLabels("app-role", "main").endSelector()
          .withNewTemplate().withNewMetadata().addToLabels("app", "hello-app")
          .addToLabels("app-role", "main").endMetadata()
          .withNewSpec().addNewContainer().withName("app").withImage("hello:v1").endContainer()
          .endSpec().endTemplate().endSpec().build()).create();
      AtomicBoolean controlling = new AtomicBoolean(true);
      Thread controller = new Thread(() -> {
        while (controlling.get()) {
          try {
            for (Deployment d : client.apps().deployments().inNamespace("default").list()
                .getItems()) {
              int replicas = d.getSpec().getReplicas();
              if (d.getStatus() == null || d.getStatus().getReplicas() == null
                  || d.getStatus().getReplicas() != replicas) {
                d.setStatus(new DeploymentStatusBuilder().withReplicas(replicas)
                    .withReadyReplicas(replicas).withUpdatedReplicas(replicas).build());
                client.apps().deployments().inNamespace("default").resource(d).updateStatus();
              }
            }
            Thread.sleep(50);
          } catch (InterruptedException e) {
            return;
          } catch (RuntimeException e) {
            // conflict: next round
          }
        }
      });
      controller.start();
      SteelyardServer a = replica(cluster, dir);
      SteelyardServer b = replica(cluster, dir);
      RolloutLeaderElection electA = elect(cluster, a, "replica-a");
      RolloutLeaderElection electB = elect(cluster, b, "replica-b");
      try {
        await().atMost(Duration.ofSeconds(20)).until(() -> engine(a).leading()
            || engine(b).leading());
        Thread.sleep(1_000);
        assertThat(engine(a).leading() && engine(b).leading()).as("one driver").isFalse();
        SteelyardServer leader = engine(a).leading() ? a : b;
        SteelyardServer follower = leader == a ? b : a;
        RolloutLeaderElection leaderElection = leader == a ? electA : electB;

        // The follower learns who leads when it next reads the Lease: until then it says that
        // no leader is known, and refuses all the same.
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
            assertThatThrownBy(() -> engine(follower).start(APP,
                FlowRequest.deploy("v2", List.of(20.0), null), "test"))
                .isInstanceOf(FlowException.class).hasMessageContaining("the leader is replica-"));
        engine(leader).start(APP, FlowRequest.deploy("v2", List.of(20.0), null), "test");
        await().atMost(Duration.ofSeconds(20)).until(() -> engine(leader).active(APP)
            .map(flow -> flow.phase() == Phase.STEP_JUDGING).orElse(false));
        assertThat(engine(follower).active(APP)).as("the follower reads the shared store")
            .map(flow -> flow.phase()).contains(Phase.STEP_JUDGING);
        assertThatThrownBy(() -> engine(follower).approve(APP, "test"))
            .hasMessageContaining("does not drive rollout flows");

        leaderElection.close();
        leader.close();
        await().atMost(Duration.ofSeconds(20)).until(() -> engine(follower).leading());
        engine(follower).approve(APP, "test");
        await().atMost(Duration.ofSeconds(20)).until(() -> engine(follower).latest(APP)
            .map(flow -> flow.phase() == Phase.PROMOTED).orElse(false));
        Deployment main = client.apps().deployments().inNamespace("default").withName("hello")
            .get();
        assertThat(main.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
            .isEqualTo("hello:v2");
        assertThat(client.apps().deployments().inNamespace("default")
            .withName("hello-canary").get().getSpec().getReplicas()).isZero();
        // Everything stopped first, the simulated controller too (it polls every 50 ms, so
        // the requests would never run out): what the elections asked for, against rbac.yaml.
        electA.close();
        electB.close();
        a.close();
        b.close();
        controlling.set(false);
        controller.join();
        java.util.Set<String> leaseCalls = new java.util.TreeSet<>();
        for (var request = cluster.server().takeRequest(100,
                java.util.concurrent.TimeUnit.MILLISECONDS);
            request != null;
            request = cluster.server().takeRequest(100,
                java.util.concurrent.TimeUnit.MILLISECONDS)) {
          if (request.getPath().contains("/leases")) {
            leaseCalls.add(request.getMethod());
          }
        }
        System.out.println("Lease calls: " + leaseCalls);
        assertThat(leaseCalls).as("rbac: leases get, create, patch")
            .isSubsetOf("GET", "POST", "PATCH");
      } finally {
        electA.close();
        electB.close();
        a.close();
        b.close();
        controlling.set(false);
        controller.join();
      }
    }
  }

  private static RolloutEngine engine(SteelyardServer server) {
    return server.rollouts().orElseThrow();
  }

  private static SteelyardServer replica(MockCluster cluster, Path dir) throws Exception {
    ServerConfig config = ServerConfig.defaults(dir.resolve("shared")).withBindHost("127.0.0.1")
        .withPorts(0, 0);
    return new SteelyardServer(config, new StaticAppCatalog(List.of(new AppSpec(APP, 8080,
        AppProtocol.GRPC, List.of(), Map.of())), "test"))
        .withWorkloads(new KubernetesWorkloads(cluster.newClient(), "app", "app-role",
            Optional.empty()))
        .withElectedRollouts()
        .start();
  }

  private static RolloutLeaderElection elect(MockCluster cluster, SteelyardServer server,
      String identity) {
    return RolloutLeaderElection.start(cluster.newClient(), "default", identity,
        engine(server), Duration.ofSeconds(3));
  }
}
