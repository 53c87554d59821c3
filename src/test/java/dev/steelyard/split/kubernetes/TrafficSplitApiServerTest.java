package dev.steelyard.split.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.steelyard.kubernetes.RealApi;
import dev.steelyard.kubernetes.RealCluster;
import dev.steelyard.server.KubernetesControlPlane;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.source.kubernetes.KubernetesSourceSettings;
import dev.steelyard.source.kubernetes.KubeObjects;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.SplitMode;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.view.AppKey;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
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
 * TrafficSplits on a real API server: the CRD's schema refuses bad values with the server's own
 * message before Steelyard sees them (the mock enforces no schema), and status lives in the
 * status subresource (spec writes do not touch it, status writes do not bump the generation). The
 * control plane runs as the shipped ServiceAccount.
 */
@ExtendWith(RealApi.class)
class TrafficSplitApiServerTest {

  @TempDir Path dataDir;
  private final RealCluster cluster;
  private final KubernetesClient kubectl;
  private final String ns;
  private final AppKey hello;
  private KubernetesClient controlPlaneClient;
  private KubernetesControlPlane plane;

  TrafficSplitApiServerTest(RealCluster cluster) {
    this.cluster = cluster;
    this.kubectl = cluster.admin();
    this.ns = cluster.newNamespace("split");
    this.hello = new AppKey(ns, "hello-app");
  }

  @BeforeEach
  void start() throws Exception {
    kubectl.services().resource(KubeObjects.service(ns, "hello-app", "app", 80,
        new IntOrString(9000), "grpc")).create();
    int ip = 1;
    for (String role : List.of("main", "baseline", "canary")) {
      cluster.createPod(KubeObjects.pod(ns, role + "-1", RealCluster.labels("hello-app", role),
          "10.0.0." + ip++, true, Map.of()));
    }
    controlPlaneClient = cluster.controlPlaneClient();
    plane = KubernetesControlPlane.start(controlPlaneClient,
        ServerConfig.defaults(dataDir).withPorts(0, 0).withBindHost("127.0.0.1"),
        new KubernetesSourceSettings("app", "app-role", List.of(ns)), "replica-a");
  }

  @AfterEach
  void stop() {
    plane.close();
    controlPlaneClient.close();
  }

  private GenericKubernetesResource resource() {
    return kubectl.genericKubernetesResources(TrafficSplits.CONTEXT).inNamespace(ns)
        .withName("hello-app").get();
  }

  private GenericKubernetesResource withSpec(String name, Map<String, Object> mesh) {
    GenericKubernetesResource resource = TrafficSplits.newResource(new AppKey(ns, name),
        new AppSplits(SplitPolicy.OFF, Optional.empty()));
    resource.setAdditionalProperty("spec", Map.of("mesh", mesh));
    return resource;
  }

  private String refusal(Map<String, Object> mesh) {
    KubernetesClientException refused = org.junit.jupiter.api.Assertions.assertThrows(
        KubernetesClientException.class, () -> kubectl.genericKubernetesResources(
            TrafficSplits.CONTEXT).inNamespace(ns).resource(withSpec("hello-app", mesh))
            .create());
    assertThat(refused.getCode()).isEqualTo(422);
    return refused.getMessage();
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> status() {
    GenericKubernetesResource resource = resource();
    Object status = resource == null ? null : resource.getAdditionalProperties().get("status");
    return status instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> condition(String type) {
    return status().get("conditions") instanceof List<?> list ? list.stream()
        .map(c -> (Map<String, Object>) c).filter(c -> type.equals(c.get("type")))
        .findFirst().orElse(Map.of()) : Map.of();
  }

  /** As {@code kubectl edit}: a locked write, tried again when the status writer got between. */
  private void editSpec(Map<String, Object> mesh) {
    for (int attempt = 1; ; attempt++) {
      try {
        kubectl.genericKubernetesResources(TrafficSplits.CONTEXT).inNamespace(ns)
            .withName("hello-app").edit(resource -> {
              resource.setAdditionalProperty("spec", Map.of("mesh", mesh));
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
  void theCrdSchemaRefusesWhatNoModeAcceptsWithTheApiServersOwnMessage() {
    String tooHigh = refusal(Map.of("mode", "test", "canaryWeight", 150));
    System.out.println("API server on canaryWeight 150: " + tooHigh);
    assertThat(tooHigh).contains("spec.mesh.canaryWeight")
        .contains("should be less than or equal to 100");
    assertThat(refusal(Map.of("mode", "test", "canaryWeight", -1)))
        .contains("should be greater than or equal to 0");
    assertThat(refusal(Map.of("mode", "deploy", "canaryWeight", 70)))
        .contains("in deploy mode canaryWeight is at most 50");
    assertThat(refusal(Map.of("mode", "sideways", "canaryWeight", 1)))
        .contains("spec.mesh.mode").contains("Unsupported value: \"sideways\"");
    assertThat(refusal(Map.of("mode", "test", "canaryWeight", "ten")))
        .contains("spec.mesh.canaryWeight").contains("must be of type number");
    assertThat(resource()).isNull();
    assertThat(plane.splits().get(hello).mesh()).isEqualTo(SplitPolicy.OFF);

    // An edit of a stored resource is refused the same way, and the stored one stays.
    kubectl.genericKubernetesResources(TrafficSplits.CONTEXT).inNamespace(ns)
        .resource(withSpec("hello-app", Map.of("mode", "test", "canaryWeight", 10))).create();
    long generation = resource().getMetadata().getGeneration();
    assertThatThrownBy(() -> editSpec(Map.of("mode", "deploy", "canaryWeight", 51)))
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("in deploy mode canaryWeight is at most 50");
    assertThat(resource().getMetadata().getGeneration()).isEqualTo(generation);
    await().atMost(Duration.ofSeconds(10)).until(() ->
        plane.splits().get(hello).mesh().equals(new SplitPolicy(SplitMode.TEST, 1000)));
  }

  @Test
  void whatTheSchemaCannotSayReachesSteelyardAndIsReportedAsValidFalse() throws Exception {
    plane.splits().set(hello, new AppSplits(new SplitPolicy(SplitMode.TEST, 1000),
        Optional.empty()));
    editSpec(Map.of("mode", "test", "canaryWeight", 10.005));
    plane.refreshStatus();
    await().atMost(Duration.ofSeconds(15)).until(() -> "False".equals(condition("Valid")
        .get("status")));
    assertThat((String) condition("Valid").get("message"))
        .contains("canaryWeight 10.005 is finer than 0.01 %");
    assertThat(plane.splits().get(hello).mesh()).isEqualTo(new SplitPolicy(SplitMode.TEST, 1000));
  }

  @Test
  void theStatusSubresourceIsTheControlPlanesAndSeparateFromTheSpec() throws Exception {
    plane.splits().set(hello, new AppSplits(new SplitPolicy(SplitMode.DEPLOY, 500),
        Optional.empty()));
    long generation = resource().getMetadata().getGeneration();
    plane.refreshStatus();
    await().atMost(Duration.ofSeconds(15)).until(() ->
        status().get("observedGeneration") instanceof Number n && n.longValue() == generation
            && "True".equals(condition("Valid").get("status")));
    assertThat(((Map<?, ?>) status().get("applied")).get("mesh"))
        .isEqualTo(Map.of("mode", "deploy", "canaryWeight", 5));
    // Status writes by the control plane did not move the generation.
    assertThat(resource().getMetadata().getGeneration()).isEqualTo(generation);

    // A write of the main resource cannot change the status: the server drops it.
    Map<String, Object> statusBefore = status();
    GenericKubernetesResource edited = resource();
    edited.setAdditionalProperty("status", Map.of("observedGeneration", 999));
    edited.setAdditionalProperty("spec", Map.of("mesh", Map.of("mode", "deploy",
        "canaryWeight", 10)));
    kubectl.genericKubernetesResources(TrafficSplits.CONTEXT).inNamespace(ns).resource(edited)
        .update();
    assertThat(resource().getMetadata().getGeneration()).isEqualTo(generation + 1);
    assertThat(status().get("observedGeneration")).isNotEqualTo(999);
    await().atMost(Duration.ofSeconds(15)).until(() ->
        status().get("observedGeneration") instanceof Number n && n.longValue() == generation + 1);
    assertThat(statusBefore.get("observedGeneration")).isEqualTo((int) generation);
  }
}
