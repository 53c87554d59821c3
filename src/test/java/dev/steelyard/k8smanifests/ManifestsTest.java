package dev.steelyard.k8smanifests;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.steelyard.source.kubernetes.KubernetesSourceSettings;
import dev.steelyard.split.kubernetes.TrafficSplits;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every YAML under {@code k8s/} parses, and the references between the manifests hold: Service
 * selectors match pod labels, ConfigMaps and ServiceAccounts exist, RBAC covers what the code
 * does, and the Envoy bootstraps point at the control plane with the right node metadata.
 */
class ManifestsTest {

  private static final Path K8S = Path.of("k8s");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  /** One manifest document and the file it came from. */
  record Doc(Path file, JsonNode node) {
    String kind() {
      return node.path("kind").asText();
    }

    String name() {
      return node.path("metadata").path("name").asText();
    }

    /** Kustomize sets the namespace of the example app; else what the document says. */
    String namespace() {
      String declared = node.path("metadata").path("namespace").asText("");
      if (!declared.isEmpty()) {
        return declared;
      }
      return file.startsWith(K8S.resolve("examples")) ? "default" : "";
    }
  }

  private static List<Doc> docs;

  @BeforeAll
  static void load() throws IOException {
    docs = new ArrayList<>();
    List<Path> files;
    try (Stream<Path> walk = Files.walk(K8S)) {
      files = walk.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml"))
          .sorted().toList();
    }
    for (Path file : files) {
      try (var parser = YAML.getFactory().createParser(file.toFile())) {
        var values = YAML.readValues(parser, JsonNode.class);
        while (values.hasNext()) {
          JsonNode node = values.next();
          if (node != null && !node.isNull() && !node.isMissingNode()) {
            docs.add(new Doc(file, node));
          }
        }
      }
    }
  }

  private static List<Doc> ofKind(String kind) {
    return docs.stream().filter(doc -> doc.kind().equals(kind)).toList();
  }

  private static Doc one(String kind, String name) {
    List<Doc> found = ofKind(kind).stream().filter(doc -> doc.name().equals(name)).toList();
    assertThat(found).as(kind + " " + name).hasSize(1);
    return found.get(0);
  }

  private static Map<String, String> strings(JsonNode node) {
    Map<String, String> map = new HashMap<>();
    node.fields().forEachRemaining(e -> map.put(e.getKey(), e.getValue().asText()));
    return map;
  }

  @Test
  void everyDocumentHasAKindAndTheExpectedKindsAreThere() {
    for (Doc doc : docs) {
      assertThat(doc.node().path("apiVersion").asText()).as(doc.file() + " apiVersion")
          .isNotEmpty();
      assertThat(doc.kind()).as(doc.file() + " kind").isNotEmpty();
      if (!Set.of("Kustomization", "Cluster").contains(doc.kind())) {
        assertThat(doc.name()).as(doc.file() + " metadata.name").isNotEmpty();
      }
    }
    assertThat(docs.stream().map(Doc::kind).distinct()).contains("CustomResourceDefinition",
        "Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment",
        "Service", "ConfigMap", "TrafficSplit", "Kustomization");
  }

  @Test
  void kustomizationsListFilesThatExist() {
    for (Doc kustomization : ofKind("Kustomization")) {
      for (JsonNode resource : kustomization.node().path("resources")) {
        assertThat(kustomization.file().resolveSibling(resource.asText()))
            .as(kustomization.file() + " -> " + resource.asText()).exists();
      }
    }
  }

  @Test
  void theCrdIsTheOneTheCodeUses() {
    Doc crd = one("CustomResourceDefinition", TrafficSplits.PLURAL + "." + TrafficSplits.GROUP);
    JsonNode spec = crd.node().path("spec");
    assertThat(spec.path("group").asText()).isEqualTo(TrafficSplits.GROUP);
    assertThat(spec.path("names").path("kind").asText()).isEqualTo(TrafficSplits.KIND);
    assertThat(spec.path("names").path("plural").asText()).isEqualTo(TrafficSplits.PLURAL);
    assertThat(spec.path("scope").asText()).isEqualTo("Namespaced");
    JsonNode version = spec.path("versions").get(0);
    assertThat(version.path("name").asText()).isEqualTo(TrafficSplits.VERSION);
    assertThat(version.path("subresources").has("status")).isTrue();
  }

  @Test
  void exampleTrafficSplitsAreValid() throws Exception {
    for (Doc split : ofKind("TrafficSplit")) {
      GenericKubernetesResource resource = Serialization.unmarshal(
          YAML.writeValueAsString(split.node()), GenericKubernetesResource.class);
      assertThat(TrafficSplits.parse(resource)).as(split.file().toString()).isNotNull();
    }
  }

  @Test
  void serviceSelectorsMatchPodTemplatesInTheirNamespace() {
    for (Doc service : ofKind("Service")) {
      Map<String, String> selector = strings(service.node().path("spec").path("selector"));
      assertThat(selector).as(service.name() + " selector").isNotEmpty();
      boolean matched = ofKind("Deployment").stream()
          .filter(d -> d.namespace().equals(service.namespace()))
          .map(d -> strings(d.node().path("spec").path("template").path("metadata")
              .path("labels")))
          .anyMatch(labels -> labels.entrySet().containsAll(selector.entrySet()));
      assertThat(matched).as("Service " + service.name() + " selects some pod template").isTrue();
    }
  }

  @Test
  void deploymentSelectorsMatchTheirTemplatesAndNamedPortsExist() {
    for (Doc deployment : ofKind("Deployment")) {
      JsonNode spec = deployment.node().path("spec");
      Map<String, String> labels = strings(spec.path("template").path("metadata").path("labels"));
      assertThat(labels.entrySet())
          .containsAll(strings(spec.path("selector").path("matchLabels")).entrySet());
    }
    for (Doc service : ofKind("Service")) {
      Map<String, String> selector = strings(service.node().path("spec").path("selector"));
      for (JsonNode port : service.node().path("spec").path("ports")) {
        JsonNode target = port.path("targetPort");
        if (!target.isTextual()) {
          continue;
        }
        for (Doc deployment : ofKind("Deployment")) {
          JsonNode template = deployment.node().path("spec").path("template");
          if (!deployment.namespace().equals(service.namespace()) || !strings(
              template.path("metadata").path("labels")).entrySet()
              .containsAll(selector.entrySet())) {
            continue;
          }
          Set<String> names = new HashSet<>();
          template.path("spec").path("containers").forEach(c -> c.path("ports")
              .forEach(p -> names.add(p.path("name").asText())));
          assertThat(names).as(deployment.name() + " has port " + target.asText())
              .contains(target.asText());
        }
      }
    }
  }

  @Test
  void configMapsAndServiceAccountsThatPodsUseExist() {
    for (Doc deployment : ofKind("Deployment")) {
      JsonNode podSpec = deployment.node().path("spec").path("template").path("spec");
      for (JsonNode volume : podSpec.path("volumes")) {
        if (volume.has("configMap")) {
          String name = volume.path("configMap").path("name").asText();
          assertThat(ofKind("ConfigMap").stream().anyMatch(cm -> cm.name().equals(name)
              && cm.namespace().equals(deployment.namespace())))
              .as(deployment.name() + " mounts ConfigMap " + name).isTrue();
        }
      }
      if (podSpec.has("serviceAccountName")) {
        String account = podSpec.path("serviceAccountName").asText();
        assertThat(ofKind("ServiceAccount").stream().anyMatch(sa -> sa.name().equals(account)
            && sa.namespace().equals(deployment.namespace()))).as(account).isTrue();
      }
    }
  }

  /** What the code calls: informers list and watch; the store gets, creates and updates. */
  @Test
  void rbacCoversExactlyTheVerbsTheCodeUses() {
    Doc binding = one("ClusterRoleBinding", "steelyard");
    Doc role = one("ClusterRole", binding.node().path("roleRef").path("name").asText());
    JsonNode subject = binding.node().path("subjects").get(0);
    assertThat(one("ServiceAccount", subject.path("name").asText()).namespace())
        .isEqualTo(subject.path("namespace").asText());
    Deployment controlPlane = Deployment.of(one("Deployment", "steelyard"));
    assertThat(controlPlane.serviceAccount()).isEqualTo(subject.path("name").asText());

    Map<String, Set<String>> granted = new HashMap<>();
    for (JsonNode rule : role.node().path("rules")) {
      for (JsonNode group : rule.path("apiGroups")) {
        for (JsonNode resource : rule.path("resources")) {
          Set<String> verbs = granted.computeIfAbsent(group.asText() + "/" + resource.asText(),
              k -> new HashSet<>());
          rule.path("verbs").forEach(verb -> verbs.add(verb.asText()));
        }
      }
    }
    Map<String, Set<String>> needed = Map.of(
        "/pods", Set.of("list", "watch"),
        "/services", Set.of("list", "watch"),
        "steelyard.dev/trafficsplits", Set.of("get", "list", "watch", "create", "update"),
        "steelyard.dev/trafficsplits/status", Set.of("update"),
        // KubernetesWorkloads (serve --rollouts): list to find main, get/create/patch
        // (fabric8's edit is a patch), scale through the subresource.
        "apps/deployments", Set.of("get", "list", "create", "patch"),
        "apps/deployments/scale", Set.of("get", "update"),
        // RolloutLeaderElection: fabric8's LeaseLock.
        "coordination.k8s.io/leases", Set.of("get", "create", "patch"),
        // CanaryRollouts: list them (also by name, for the owner and the Events; and to load
        // flows), create one for a flow started by REST, patch to remove a carried-out
        // command annotation, write their status (where flows live).
        "steelyard.dev/canaryrollouts", Set.of("list", "create", "patch"),
        "steelyard.dev/canaryrollouts/status", Set.of("update"),
        // RolloutEvents: an Event per history entry, a merge patch to count a repeated one.
        "/events", Set.of("create", "patch"));
    assertThat(granted).isEqualTo(needed);
  }

  private record Deployment(JsonNode podSpec) {
    static Deployment of(Doc doc) {
      return new Deployment(doc.node().path("spec").path("template").path("spec"));
    }

    String serviceAccount() {
      return podSpec.path("serviceAccountName").asText();
    }

    JsonNode container(String name) {
      for (JsonNode container : podSpec.path("containers")) {
        if (container.path("name").asText().equals(name)) {
          return container;
        }
      }
      throw new AssertionError("no container " + name);
    }
  }

  @Test
  void theControlPlaneRunsInKubernetesModeWithProbesAndResources() {
    JsonNode container = Deployment.of(one("Deployment", "steelyard")).container("steelyard");
    List<String> args = new ArrayList<>();
    container.path("args").forEach(arg -> args.add(arg.asText()));
    assertThat(args).contains("serve", "--kubernetes", "--xds-port=18000", "--admin-port=18080",
        // Probes reach the pod IP: an admin API left on loopback (no token) would never be ready.
        "--bind=0.0.0.0");
    assertThat(container.path("readinessProbe").path("httpGet").path("path").asText())
        .isEqualTo("/readyz");
    assertThat(container.path("livenessProbe").path("httpGet").path("path").asText())
        .isEqualTo("/healthz");
    assertThat(container.path("resources").has("requests")).isTrue();
    assertThat(container.path("resources").path("limits").has("memory")).isTrue();
    Map<String, String> ports = new HashMap<>();
    container.path("ports").forEach(p -> ports.put(p.path("name").asText(),
        p.path("containerPort").asText()));
    assertThat(ports).containsEntry("xds", "18000").containsEntry("admin", "18080");
  }

  /** The bootstraps must keep the shape of envoy-configs/: ADS on 18000, node metadata. */
  @Test
  void envoyBootstrapsTalkAdsToTheControlPlaneAndSayWhatTheyAre() throws Exception {
    Map<String, String> kinds = Map.of("envoy-gateway-bootstrap", "gateway",
        "hello-app-envoy-sidecar", "sidecar");
    for (Map.Entry<String, String> expected : kinds.entrySet()) {
      Doc configMap = one("ConfigMap", expected.getKey());
      JsonNode bootstrap = YAML.readTree(configMap.node().path("data").path("envoy.yaml")
          .asText());
      JsonNode metadata = bootstrap.path("node").path("metadata");
      assertThat(metadata.path("steelyard.kind").asText()).isEqualTo(expected.getValue());
      if (expected.getValue().equals("sidecar")) {
        assertThat(metadata.path("steelyard.app").asText()).isEqualTo("default/hello-app");
      }
      JsonNode ads = bootstrap.path("dynamic_resources").path("ads_config");
      assertThat(ads.path("api_type").asText()).isEqualTo("GRPC");
      String xdsCluster = ads.path("grpc_services").get(0).path("envoy_grpc")
          .path("cluster_name").asText();
      JsonNode cluster = null;
      for (JsonNode c : bootstrap.path("static_resources").path("clusters")) {
        if (c.path("name").asText().equals(xdsCluster)) {
          cluster = c;
        }
      }
      assertThat(cluster).as("static cluster " + xdsCluster).isNotNull();
      JsonNode address = cluster.path("load_assignment").path("endpoints").get(0)
          .path("lb_endpoints").get(0).path("endpoint").path("address").path("socket_address");
      assertThat(address.path("address").asText())
          .isEqualTo("steelyard.steelyard-system.svc.cluster.local");
      assertThat(address.path("port_value").asInt()).isEqualTo(18000);
    }
  }

  @Test
  void theExampleAppHasThreeRolesEachWithASidecarAndADownwardApiNodeId() {
    Doc service = one("Service", "hello-app");
    assertThat(service.node().path("metadata").path("annotations")
        .path(KubernetesSourceSettings.GATEWAY_HOSTS_ANNOTATION).asText()).isNotEmpty();
    Set<String> roles = new HashSet<>();
    for (Doc deployment : ofKind("Deployment")) {
      JsonNode template = deployment.node().path("spec").path("template");
      Map<String, String> labels = strings(template.path("metadata").path("labels"));
      if (!"hello-app".equals(labels.get("app"))) {
        continue;
      }
      roles.add(labels.get("app-role"));
      JsonNode envoy = new Deployment(template.path("spec")).container("envoy");
      List<String> args = new ArrayList<>();
      envoy.path("args").forEach(arg -> args.add(arg.asText()));
      assertThat(String.join(" ", args))
          .contains("--service-node \"$POD_NAME.$POD_NAMESPACE\"")
          .contains("s|" + dev.steelyard.envoy.EnvoyBootstrap.TOKEN_PLACEHOLDER
              + "|$STEELYARD_XDS_TOKEN|");
      Set<String> secrets = new HashSet<>();
      envoy.path("env").forEach(env -> secrets.add(env.path("valueFrom").path("secretKeyRef")
          .path("name").asText()));
      assertThat(secrets).contains("steelyard-xds-token");
      Set<String> fieldRefs = new HashSet<>();
      envoy.path("env").forEach(env -> fieldRefs.add(env.path("valueFrom").path("fieldRef")
          .path("fieldPath").asText()));
      assertThat(fieldRefs).contains("metadata.name", "metadata.namespace");
    }
    assertThat(roles).containsExactlyInAnyOrder("main", "baseline", "canary");
  }
}
