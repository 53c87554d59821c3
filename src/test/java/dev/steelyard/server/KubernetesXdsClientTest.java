package dev.steelyard.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.demo.SplitProbe;
import dev.steelyard.it.Binomial;
import dev.steelyard.source.kubernetes.KubernetesSourceSettings;
import dev.steelyard.source.kubernetes.KubeObjects;
import dev.steelyard.source.kubernetes.MockCluster;
import dev.steelyard.split.kubernetes.TrafficSplits;
import dev.steelyard.view.SubsetRole;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import dev.steelyard.demo.RoleBackend;
import io.grpc.xds.XdsNameResolverProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * grpc-java's real xDS client, fed by a control plane that discovers pods from (mock) Kubernetes:
 * a {@code kubectl}-style change to the TrafficSplit reaches the client's weighted picks. Pod IPs
 * are 127.0.0.1-3 (Linux answers on the whole loopback /8), all on the Service's one target port,
 * with a backend answering its role on each.
 */
class KubernetesXdsClientTest {

  private static final String SCHEME = "xds-k8s";
  private static final String TARGET = SCHEME + ":///hello-app";
  private static final int REQUESTS = 1000;

  @TempDir Path dataDir;
  private MockCluster cluster;
  private KubernetesClient kubectl;
  private KubernetesControlPlane plane;
  private final List<RoleBackend> backends = new ArrayList<>();
  private NameResolverProvider resolver;

  @BeforeEach
  void start() throws Exception {
    RoleBackend main = RoleBackend.start("hello-app", SubsetRole.MAIN, "127.0.0.1", 0);
    backends.add(main);
    int port = main.port();
    backends.add(RoleBackend.start("hello-app", SubsetRole.BASELINE, "127.0.0.2", port));
    backends.add(RoleBackend.start("hello-app", SubsetRole.CANARY, "127.0.0.3", port));

    cluster = new MockCluster();
    kubectl = cluster.newClient();
    kubectl.services().resource(KubeObjects.service("default", "hello-app", "app", 80,
        new IntOrString(port), "grpc")).create();
    int ip = 1;
    for (String role : List.of("main", "baseline", "canary")) {
      kubectl.pods().resource(KubeObjects.pod("default", role + "-1",
          Map.of("app", "hello-app", "app-role", role), "127.0.0." + ip++, true, Map.of()))
          .create();
    }
    plane = KubernetesControlPlane.start(cluster.client(),
        ServerConfig.defaults(dataDir).withPorts(0, 0).withBindHost("127.0.0.1"),
        KubernetesSourceSettings.DEFAULTS, "replica-a");

    resolver = XdsNameResolverProvider.createForTest(SCHEME, Map.of(
        "xds_servers", List.of(Map.of(
            "server_uri", "127.0.0.1:" + plane.server().xdsPort(),
            "channel_creds", List.of(Map.of("type", "insecure")),
            "server_features", List.of("xds_v3"))),
        "node", Map.of("id", "k8s-test-client", "cluster", "test",
            "locality", Map.of("zone", "a"))));
    NameResolverRegistry.getDefaultRegistry().register(resolver);
  }

  @AfterEach
  void stop() {
    NameResolverRegistry.getDefaultRegistry().deregister(resolver);
    plane.close();
    kubectl.close();
    cluster.close();
    backends.forEach(RoleBackend::close);
  }

  /** A {@code kubectl apply} of the TrafficSplit: create, or replace the spec. */
  private void applySplit(Map<String, Object> mesh) {
    var resources = kubectl.genericKubernetesResources(TrafficSplits.CONTEXT)
        .inNamespace("default");
    for (int attempt = 1; ; attempt++) {
      try {
        GenericKubernetesResource existing = resources.withName("hello-app").get();
        if (existing == null) {
          GenericKubernetesResource created = new GenericKubernetesResource();
          created.setApiVersion("steelyard.dev/v1alpha1");
          created.setKind("TrafficSplit");
          created.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder()
              .withNamespace("default").withName("hello-app").build());
          created.setAdditionalProperty("spec", Map.of("mesh", mesh));
          resources.resource(created).create();
        } else {
          existing.setAdditionalProperty("spec", Map.of("mesh", mesh));
          resources.resource(existing).update();
        }
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
      }
    }
  }

  private static int count(SplitProbe.Result result, String role) {
    return result.counts().getOrDefault(role, 0);
  }

  @Test
  void aTrafficSplitChangeReachesTheGrpcClientsPicks() {
    SplitProbe.Result before = SplitProbe.run(TARGET, 100, 20);
    assertThat(before.counts()).containsOnlyKeys("main");

    applySplit(Map.of("mode", "test", "canaryWeight", 30));
    await().atMost(Duration.ofSeconds(15))
        .until(() -> count(SplitProbe.run(TARGET, 50, 10), "canary") > 0);
    SplitProbe.Result test = SplitProbe.run(TARGET, REQUESTS, 10);
    assertThat(test.counts()).containsOnlyKeys("main", "canary");
    Binomial.assertSplit(test.counts(), REQUESTS, 0.70, 0, 0.30);

    applySplit(Map.of("mode", "deploy", "canaryWeight", 25));
    await().atMost(Duration.ofSeconds(15))
        .until(() -> count(SplitProbe.run(TARGET, 50, 10), "baseline") > 0);
    SplitProbe.Result deploy = SplitProbe.run(TARGET, REQUESTS, 10);
    assertThat(deploy.counts()).containsOnlyKeys("main", "baseline", "canary");
    Binomial.assertSplit(deploy.counts(), REQUESTS, 0.50, 0.25, 0.25);
  }
}
