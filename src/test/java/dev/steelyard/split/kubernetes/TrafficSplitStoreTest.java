package dev.steelyard.split.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.cli.SteelyardCommand;
import dev.steelyard.server.KubernetesControlPlane;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.source.kubernetes.KubernetesSourceSettings;
import dev.steelyard.source.kubernetes.KubeObjects;
import dev.steelyard.source.kubernetes.MockCluster;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.SplitMode;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetWeights;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
 * Splits kept in TrafficSplit resources: written by the REST API and the CLI, edited directly
 * (as {@code kubectl edit} does), bad values refused with a status condition.
 */
class TrafficSplitStoreTest {

  private static final AppKey HELLO = new AppKey("default", "hello-app");

  @TempDir Path dataDir;
  private MockCluster cluster;
  private KubernetesClient kubectl;
  private KubernetesControlPlane plane;

  @BeforeEach
  void start() throws Exception {
    cluster = new MockCluster();
    kubectl = cluster.newClient();
    kubectl.services().resource(KubeObjects.service("default", "hello-app", "app", 80,
        new IntOrString(9000), "grpc")).create();
    int ip = 1;
    for (String role : List.of("main", "baseline", "canary")) {
      kubectl.pods().resource(KubeObjects.pod("default", role + "-1",
          Map.of("app", "hello-app", "app-role", role), "10.0.0." + ip++, true, Map.of()))
          .create();
    }
    plane = KubernetesControlPlane.start(cluster.client(),
        ServerConfig.defaults(dataDir).withPorts(0, 0).withBindHost("127.0.0.1"),
        KubernetesSourceSettings.DEFAULTS, "replica-a");
  }

  @AfterEach
  void stop() {
    plane.close();
    kubectl.close();
    cluster.close();
  }

  private GenericKubernetesResource resource() {
    return kubectl.genericKubernetesResources(TrafficSplits.CONTEXT).inNamespace("default")
        .withName("hello-app").get();
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> status() {
    GenericKubernetesResource resource = resource();
    Object status = resource == null ? null : resource.getAdditionalProperties().get("status");
    return status instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> validCondition() {
    Object conditions = status().get("conditions");
    if (!(conditions instanceof List<?> list) || list.isEmpty()) {
      return Map.of();
    }
    return (Map<String, Object>) list.get(0);
  }

  private SubsetWeights publishedMeshWeights() {
    return plane.server().publisher().current().view().app(HELLO).orElseThrow().mesh()
        .effective();
  }

  /** As {@code kubectl edit}: a locked write, tried again when the status writer got between. */
  private void editSpec(Map<String, Object> spec) {
    for (int attempt = 1; ; attempt++) {
      try {
        kubectl.genericKubernetesResources(TrafficSplits.CONTEXT).inNamespace("default")
            .withName("hello-app").edit(resource -> {
              resource.setAdditionalProperty("spec", spec);
              return resource;
            });
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
      }
    }
  }

  @Test
  void theRestApiWritesTheResourceAndItsStatusShowsWhatIsServed() throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + plane.server().adminPort()
                + "/api/v1/apps/default/hello-app/split"))
            .PUT(HttpRequest.BodyPublishers.ofString(
                "{\"mode\":\"test\",\"canaryWeight\":10,"
                    + "\"gateway\":{\"mode\":\"deploy\",\"canaryWeight\":2.5}}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);

    assertThat(resource().getAdditionalProperties().get("spec")).isEqualTo(Map.of(
        "mesh", Map.of("mode", "test", "canaryWeight", 10),
        "gateway", Map.of("mode", "deploy", "canaryWeight", 2.5)));
    assertThat(publishedMeshWeights()).isEqualTo(new SubsetWeights(9000, 0, 1000));

    await().atMost(Duration.ofSeconds(10)).until(() -> "True".equals(validCondition()
        .get("status")) && status().containsKey("effectiveWeights"));
    Map<String, Object> status = status();
    assertThat(status.get("effectiveWeights")).isEqualTo(Map.of(
        "mesh", Map.of("main", 90, "baseline", 0, "canary", 10),
        "gateway", Map.of("main", 95, "baseline", 2.5, "canary", 2.5)));
    assertThat(status.get("applied")).isEqualTo(Map.of(
        "mesh", Map.of("mode", "test", "canaryWeight", 10),
        "gateway", Map.of("mode", "deploy", "canaryWeight", 2.5),
        "gatewayFollowsMesh", false));
    assertThat((Map<String, Object>) status.get("routesVersions"))
        .containsKeys("gateway", "sidecar", "grpc");
    assertThat((Map<String, Object>) status.get("replicas")).containsKey("replica-a");
  }

  @Test
  void theCliWritesTheResourceThroughTheAdminApi() {
    int exit = SteelyardCommand.commandLine().execute("split", "set", "hello-app",
        "--mode", "deploy", "--weight", "5",
        "--admin", "http://127.0.0.1:" + plane.server().adminPort());
    assertThat(exit).isZero();
    assertThat(resource().getAdditionalProperties().get("spec"))
        .isEqualTo(Map.of("mesh", Map.of("mode", "deploy", "canaryWeight", 5)));
    assertThat(publishedMeshWeights()).isEqualTo(new SubsetWeights(9000, 500, 500));
  }

  @Test
  void aDirectEditIsServedAndABadOneIsRefusedKeepingTheLastGoodSplit() throws Exception {
    plane.splits().set(HELLO, new AppSplits(new SplitPolicy(SplitMode.TEST, 1000),
        Optional.empty()));

    editSpec(Map.of("mesh", Map.of("mode", "deploy", "canaryWeight", 20)));
    await().atMost(Duration.ofSeconds(5))
        .until(() -> publishedMeshWeights().equals(new SubsetWeights(6000, 2000, 2000)));
    await().atMost(Duration.ofSeconds(10)).until(() -> "True".equals(validCondition()
        .get("status")) && Map.of("mode", "deploy", "canaryWeight", 20)
        .equals(((Map<?, ?>) status().get("applied")).get("mesh")));

    editSpec(Map.of("mesh", Map.of("mode", "deploy", "canaryWeight", 70)));
    await().atMost(Duration.ofSeconds(10)).until(() -> "False".equals(validCondition()
        .get("status")));
    assertThat(validCondition().get("reason")).isEqualTo("InvalidSplit");
    assertThat((String) validCondition().get("message"))
        .contains("spec.mesh: canaryWeight 70 is out of range for mode deploy")
        .contains("still serving the last good split: mesh deploy 20.0");
    assertThat(plane.splits().get(HELLO).mesh()).isEqualTo(new SplitPolicy(SplitMode.DEPLOY,
        2000));
    assertThat(publishedMeshWeights()).isEqualTo(new SubsetWeights(6000, 2000, 2000));

    // The mock does not enforce the CRD schema; a real API server refuses this one itself.
    editSpec(Map.of("mesh", Map.of("mode", "test", "canaryWeight", "ten")));
    await().atMost(Duration.ofSeconds(10)).until(() -> String.valueOf(validCondition()
        .get("message")).contains("spec.mesh.canaryWeight must be a number"));
    editSpec(Map.of("mesh", Map.of("mode", "sideways")));
    await().atMost(Duration.ofSeconds(10)).until(() -> String.valueOf(validCondition()
        .get("message")).contains("unknown mode 'sideways'"));
    // An absent weight used to mean 0: all traffic to main.
    editSpec(Map.of("mesh", Map.of("mode", "test")));
    await().atMost(Duration.ofSeconds(10)).until(() -> String.valueOf(validCondition()
        .get("message")).contains("spec.mesh: mode test needs canaryWeight: 0 <= n <= 100"));
    assertThat(publishedMeshWeights()).isEqualTo(new SubsetWeights(6000, 2000, 2000));

    editSpec(Map.of("mesh", Map.of("mode", "test", "canaryWeight", 5)));
    await().atMost(Duration.ofSeconds(10)).until(() -> "True".equals(validCondition()
        .get("status")));
    assertThat(publishedMeshWeights()).isEqualTo(new SubsetWeights(9500, 0, 500));
  }

  private long observedGeneration() {
    return status().get("observedGeneration") instanceof Number n ? n.longValue() : -1;
  }

  @Test
  void observedGenerationMovesOnlyToAPublishedSpec() throws Exception {
    plane.splits().set(HELLO, new AppSplits(new SplitPolicy(SplitMode.DEPLOY, 2000),
        Optional.empty()));
    long good = resource().getMetadata().getGeneration();
    await().atMost(Duration.ofSeconds(10)).until(() -> observedGeneration() == good);

    editSpec(Map.of("mesh", Map.of("mode", "deploy", "canaryWeight", 70)));
    long invalid = resource().getMetadata().getGeneration();
    await().atMost(Duration.ofSeconds(10)).until(() -> "False".equals(validCondition()
        .get("status")));
    assertThat(validCondition()).containsEntry("observedGeneration", (int) invalid);
    assertThat(observedGeneration()).isEqualTo(good);
    assertThat(((Map<?, ?>) status().get("applied")).get("mesh"))
        .isEqualTo(Map.of("mode", "deploy", "canaryWeight", 20));

    // Valid again with the split already served: nothing new for the proxies, but the
    // published state now carries this generation.
    editSpec(Map.of("mesh", Map.of("mode", "deploy", "canaryWeight", 20.0)));
    long same = resource().getMetadata().getGeneration();
    assertThat(same).isGreaterThan(invalid);
    await().atMost(Duration.ofSeconds(10)).until(() -> observedGeneration() == same);
    assertThat(validCondition()).containsEntry("status", "True");
  }

  @Test
  void aReplicaStartingWhileTheSpecIsInvalidServesWhatWasLastApplied(@TempDir Path otherData)
      throws Exception {
    plane.splits().set(HELLO, new AppSplits(new SplitPolicy(SplitMode.DEPLOY, 2000),
        Optional.empty()));
    await().atMost(Duration.ofSeconds(10)).until(() -> status().get("applied") instanceof Map<?, ?>
        applied && Map.of("mode", "deploy", "canaryWeight", 20).equals(applied.get("mesh")));
    editSpec(Map.of("mesh", Map.of("mode", "deploy", "canaryWeight", 70)));
    await().atMost(Duration.ofSeconds(10)).until(() -> "False".equals(validCondition()
        .get("status")));

    try (KubernetesClient clientB = cluster.newClient();
        KubernetesControlPlane replicaB = KubernetesControlPlane.start(clientB,
            ServerConfig.defaults(otherData).withPorts(0, 0).withBindHost("127.0.0.1"),
            KubernetesSourceSettings.DEFAULTS, "replica-b")) {
      assertThat(replicaB.server().publisher().current().view().app(HELLO).orElseThrow().mesh()
          .effective()).isEqualTo(new SubsetWeights(6000, 2000, 2000));
      assertThat(replicaB.server().publisher().current().versions())
          .isEqualTo(plane.server().publisher().current().versions());
    }
  }

  @Test
  void deletingTheResourceSendsAllTrafficToMain() throws Exception {
    plane.splits().set(HELLO, new AppSplits(new SplitPolicy(SplitMode.TEST, 1000),
        Optional.empty()));
    assertThat(publishedMeshWeightsAfterPublish()).isEqualTo(new SubsetWeights(9000, 0, 1000));

    kubectl.genericKubernetesResources(TrafficSplits.CONTEXT).inNamespace("default")
        .withName("hello-app").delete();
    await().atMost(Duration.ofSeconds(5))
        .until(() -> publishedMeshWeights().equals(SubsetWeights.ALL_MAIN));
  }

  private SubsetWeights publishedMeshWeightsAfterPublish() throws Exception {
    long ticket = plane.server().publisher().requestPublish();
    plane.server().publisher().whenPublished(ticket).get();
    return publishedMeshWeights();
  }
}
