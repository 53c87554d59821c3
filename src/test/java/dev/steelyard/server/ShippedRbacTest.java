package dev.steelyard.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.steelyard.kubernetes.RealApi;
import dev.steelyard.kubernetes.RealCluster;
import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.FlowMachine;
import dev.steelyard.rollout.FlowRequest;
import dev.steelyard.rollout.HistoryEntry;
import dev.steelyard.rollout.kubernetes.KubernetesWorkloads;
import dev.steelyard.rollout.kubernetes.RolloutEvents;
import dev.steelyard.source.kubernetes.KubernetesSourceSettings;
import dev.steelyard.source.kubernetes.KubeObjects;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.SplitMode;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.split.kubernetes.TrafficSplits;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The RBAC that {@code k8s/control-plane/rbac.yaml} ships is enough, and no more is assumed: the
 * control plane runs as its ServiceAccount against an API server with {@code
 * --authorization-mode=RBAC} and does its whole job (discovery, split writes, status) without one
 * refusal; with one verb taken out of that ClusterRole the failure names the verb and resource.
 * (The rollout driver and its Events run as that ServiceAccount in KubernetesRolloutTest, the
 * flows kept in CanaryRollouts in CanaryRolloutFlowStoreTest and RolloutLeaderElectionTest.)
 */
@ExtendWith(RealApi.class)
class ShippedRbacTest {

  private static final Path RBAC = Path.of("k8s/control-plane/rbac.yaml");

  @TempDir Path dataDir;
  private final RealCluster cluster;
  private final KubernetesClient kubectl;
  private final String ns;
  private final AppKey hello;
  private final ListAppender<ILoggingEvent> warnings = new ListAppender<>();
  private final Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
  private final List<AutoCloseable> toClose = new ArrayList<>();

  ShippedRbacTest(RealCluster cluster) {
    this.cluster = cluster;
    this.kubectl = cluster.admin();
    this.ns = cluster.newNamespace("rbac");
    this.hello = new AppKey(ns, "hello-app");
  }

  @BeforeEach
  void app() {
    warnings.start();
    root.addAppender(warnings);
    kubectl.services().resource(KubeObjects.service(ns, "hello-app", "app", 80,
        new IntOrString(9000), "grpc")).create();
    cluster.createPod(KubeObjects.pod(ns, "main-1", RealCluster.labels("hello-app", "main"),
        "10.0.0.1", true, Map.of()));
  }

  @AfterEach
  void stop() throws Exception {
    root.detachAppender(warnings);
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private KubernetesControlPlane start(KubernetesClient client) throws Exception {
    toClose.add(client);
    KubernetesControlPlane plane = KubernetesControlPlane.start(client,
        ServerConfig.defaults(dataDir).withPorts(0, 0).withBindHost("127.0.0.1"),
        new KubernetesSourceSettings("app", "app-role", List.of(ns)), "replica-a");
    toClose.add(plane);
    return plane;
  }

  private List<String> refusals() {
    return warnings.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN))
        .map(ILoggingEvent::getFormattedMessage)
        .filter(m -> m.contains("forbidden") || m.contains("Forbidden")).toList();
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> status() {
    GenericKubernetesResource resource = kubectl.genericKubernetesResources(
        TrafficSplits.CONTEXT).inNamespace(ns).withName("hello-app").get();
    Object status = resource == null ? null : resource.getAdditionalProperties().get("status");
    return status instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
  }

  @Test
  void theShippedServiceAccountAndClusterRoleAreEnoughForTheWholeJob() throws Exception {
    KubernetesControlPlane plane = start(cluster.controlPlaneClient());
    assertThat(plane.server().publisher().current().view().app(hello).orElseThrow().mesh())
        .isNotNull();

    plane.splits().set(hello, new AppSplits(new SplitPolicy(SplitMode.TEST, 1000),
        Optional.empty()));
    cluster.createPod(KubeObjects.pod(ns, "canary-1", RealCluster.labels("hello-app", "canary"),
        "10.0.0.2", true, Map.of()));
    await().atMost(Duration.ofSeconds(10)).until(() -> plane.server().publisher().current()
        .view().app(hello).orElseThrow().mesh().effective().canary() == 1000);
    plane.splits().set(hello, new AppSplits(new SplitPolicy(SplitMode.TEST, 2000),
        Optional.empty()));
    plane.refreshStatus();
    await().atMost(Duration.ofSeconds(15)).until(() -> status().get("applied") instanceof Map<?, ?>
        applied && Map.of("mode", "test", "canaryWeight", 20).equals(applied.get("mesh")));
    assertThat(refusals()).isEmpty();
  }

  /** The shipped ClusterRole with {@code verb} taken from the rule for {@code resource}. */
  private KubernetesClient clientWithout(String resource, String verb) throws Exception {
    ClusterRole shipped = null;
    try (InputStream in = Files.newInputStream(RBAC)) {
      for (HasMetadata item : kubectl.load(in).items()) {
        if (item instanceof ClusterRole role) {
          shipped = role;
        }
      }
    }
    assertThat(shipped).as("a ClusterRole in " + RBAC).isNotNull();
    List<PolicyRule> rules = new ArrayList<>();
    boolean removed = false;
    for (PolicyRule rule : shipped.getRules()) {
      if (rule.getResources().contains(resource) && rule.getVerbs().contains(verb)) {
        List<String> verbs = new ArrayList<>(rule.getVerbs());
        verbs.remove(verb);
        if (!verbs.isEmpty()) {
          rules.add(new PolicyRuleBuilder(rule).withVerbs(verbs).build());
        }
        removed = true;
      } else {
        rules.add(rule);
      }
    }
    assertThat(removed).as(RBAC + " grants " + verb + " on " + resource).isTrue();
    String name = "steelyard-without-" + verb + "-" + resource.replace('/', '-') + "-" + ns;
    kubectl.resource(new ClusterRoleBuilder().withNewMetadata().withName(name).endMetadata()
        .withRules(rules).build()).create();
    kubectl.resource(new ServiceAccountBuilder().withNewMetadata().withName(name)
        .withNamespace(RealCluster.SYSTEM_NAMESPACE).endMetadata().build()).create();
    kubectl.resource(new ClusterRoleBindingBuilder().withNewMetadata().withName(name)
        .endMetadata().withNewRoleRef().withApiGroup("rbac.authorization.k8s.io")
        .withKind("ClusterRole").withName(name).endRoleRef().addNewSubject()
        .withKind("ServiceAccount").withName(name).withNamespace(RealCluster.SYSTEM_NAMESPACE)
        .endSubject().build()).create();
    return cluster.clientAs(RealCluster.SYSTEM_NAMESPACE, name);
  }

  @Test
  void withoutCreateOnTrafficSplitsAWriteFailsNamingTheVerb() throws Exception {
    KubernetesControlPlane plane = start(clientWithout("trafficsplits", "create"));
    assertThatThrownBy(() -> plane.splits().set(hello, new AppSplits(
        new SplitPolicy(SplitMode.TEST, 1000), Optional.empty())))
        .hasMessageContaining("cannot write TrafficSplit " + hello)
        .hasMessageContaining("cannot create resource \"trafficsplits\" in API group "
            + "\"steelyard.dev\"");
    // Discovery still works: only the write was refused.
    assertThat(plane.server().publisher().current().view().app(hello).orElseThrow()
        .spec().endpoints(SubsetRole.MAIN)).containsExactly(new Endpoint("10.0.0.1", 9000));
  }

  @Test
  void withoutUpdateOnTheStatusTheStatusWriterSaysSo() throws Exception {
    KubernetesControlPlane plane = start(clientWithout("trafficsplits/status", "update"));
    plane.splits().set(hello, new AppSplits(new SplitPolicy(SplitMode.TEST, 1000),
        Optional.empty()));
    plane.refreshStatus();
    await().atMost(Duration.ofSeconds(15)).until(() -> refusals().stream().anyMatch(m ->
        m.contains("cannot write the status of TrafficSplit " + hello)
            && m.contains("cannot update resource \"trafficsplits/status\"")));
    assertThat(status()).isEmpty();
  }

  /** Flows live in CanaryRollouts: one started by REST needs one made for it, before it acts. */
  @Test
  void withoutCreateOnCanaryRolloutsARestFlowIsNotStartedAndTheErrorNamesTheVerb()
      throws Exception {
    KubernetesClient client = clientWithout("canaryrollouts", "create");
    toClose.add(client);
    kubectl.apps().deployments().inNamespace(ns).resource(new DeploymentBuilder()
        .withNewMetadata().withName("hello").endMetadata()
        .withNewSpec().withReplicas(1)
        .withNewSelector().addToMatchLabels(RealCluster.labels("hello-app", "main")).endSelector()
        .withNewTemplate().withNewMetadata().addToLabels(RealCluster.labels("hello-app", "main"))
        .endMetadata().withNewSpec().addNewContainer().withName("app").withImage("hello:v1")
        .endContainer().endSpec().endTemplate().endSpec().build()).create();
    KubernetesControlPlane plane = KubernetesControlPlane.start(client,
        ServerConfig.defaults(dataDir).withPorts(0, 0).withBindHost("127.0.0.1"),
        new KubernetesSourceSettings("app", "app-role", List.of(ns)), "replica-a",
        Optional.of(new KubernetesWorkloads(client, "app", "app-role", Optional.empty())));
    toClose.add(plane);
    var engine = plane.server().rollouts().orElseThrow();
    engine.setLeading(true);
    assertThatThrownBy(() -> engine.start(hello, FlowRequest.deploy("v2", null, null), "test"))
        .isInstanceOf(java.io.IOException.class)
        .hasMessageContaining("cannot write flow")
        .hasMessageContaining("cannot create resource \"canaryrollouts\" in API group "
            + "\"steelyard.dev\"");
    assertThat(engine.active(hello)).as("not kept, so not acted on").isEmpty();
    assertThat(kubectl.apps().deployments().inNamespace(ns).withName("hello-canary").get())
        .isNull();
  }

  @Test
  void withoutPatchOnEventsARepeatedEventIsNotCountedAndTheWarningSaysWhy() throws Exception {
    KubernetesClient client = clientWithout("events", "patch");
    toClose.add(client);
    kubectl.apps().deployments().inNamespace(ns).resource(new DeploymentBuilder()
        .withNewMetadata().withName("hello").endMetadata()
        .withNewSpec().withReplicas(1)
        .withNewSelector().addToMatchLabels(RealCluster.labels("hello-app", "main")).endSelector()
        .withNewTemplate().withNewMetadata().addToLabels(RealCluster.labels("hello-app", "main"))
        .endMetadata().withNewSpec().addNewContainer().withName("app").withImage("hello:v1")
        .endContainer().endSpec().endTemplate().endSpec().build()).create();
    Flow flow = FlowMachine.start("f1", hello, FlowRequest.deploy("v2", null, null),
        new FlowMachine.MainWorkload("v1", 1), SplitPolicy.OFF, "test", Instant.now());
    RolloutEvents events = new RolloutEvents(client,
        new KubernetesWorkloads(client, "app", "app-role", Optional.empty()), "replica-a");
    toClose.add(events);
    HistoryEntry started = flow.history().get(0);
    // The first is created (create is granted); the repeat is a patch of its count.
    events.recorded(flow, List.of(started, started));
    await().atMost(Duration.ofSeconds(15)).until(() -> refusals().stream().anyMatch(m ->
        m.contains("Event started not written")
            && m.contains("cannot patch resource \"events\"")));
    assertThat(kubectl.v1().events().inNamespace(ns).list().getItems())
        .singleElement().satisfies(e -> assertThat(e.getCount()).isEqualTo(1));
  }
}
