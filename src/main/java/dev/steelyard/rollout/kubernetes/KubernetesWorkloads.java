package dev.steelyard.rollout.kubernetes;

import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.FlowException;
import dev.steelyard.rollout.FlowMachine;
import dev.steelyard.rollout.RoleStatus;
import dev.steelyard.rollout.RoleTarget;
import dev.steelyard.rollout.WorkloadDriver;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Workloads as Deployments. Main is the Deployment whose pod template carries the app's label
 * and {@code <role-label>: main}; baseline and canary are {@code <main>-baseline} and
 * {@code <main>-canary}, made from main's template with the role label set (in the selector
 * too) and, for the canary, the image replaced in the named container (or the only one).
 * Replica counts change through the scale subresource; a role at 0 keeps its Deployment at 0.
 *
 * <p>A version is an image ({@code repo/app:v2}, anything with ':' or '/') or a tag applied to
 * main's image. Each Deployment the driver touches is annotated {@value #VERSION_ANNOTATION}
 * with the version it was given; readiness is {@code status.readyReplicas} and
 * {@code status.updatedReplicas} against {@code spec.replicas}.
 *
 * <p>Baseline and canary of a flow that a CanaryRollout started carry an ownerReference to
 * that resource (not a controller, not blocking its deletion), so deleting the resource lets
 * the garbage collector remove them. A flow started by REST or the CLI sets no owner, and takes
 * away the reference an earlier resource's flow left on a Deployment it reuses: deleting that
 * old resource must not remove workloads a later flow runs.
 */
public final class KubernetesWorkloads implements WorkloadDriver {

  public static final String VERSION_ANNOTATION = "steelyard.dev/version";
  public static final String FLOW_ANNOTATION = "steelyard.dev/flow";
  private static final Logger log = LoggerFactory.getLogger(KubernetesWorkloads.class);

  private final KubernetesClient client;
  private final String appLabel;
  private final String roleLabel;
  private final Optional<String> container;
  /** The owner per flow id, looked up once (the resource does not change its uid). */
  private final Map<String, Optional<OwnerReference>> owners = new ConcurrentHashMap<>();

  public KubernetesWorkloads(KubernetesClient client, String appLabel, String roleLabel,
      Optional<String> container) {
    this.client = client;
    this.appLabel = appLabel;
    this.roleLabel = roleLabel;
    this.container = container;
  }

  /** Main's Deployment: its pod template has the app's label and role main. */
  Optional<Deployment> mainDeployment(AppKey app) {
    List<Deployment> found = client.apps().deployments().inNamespace(app.namespace()).list()
        .getItems().stream().filter(d -> {
          Map<String, String> labels = templateLabels(d);
          return app.name().equals(labels.get(appLabel))
              && SubsetRole.MAIN.label().equals(labels.get(roleLabel));
        }).toList();
    return found.size() == 1 ? Optional.of(found.get(0)) : Optional.empty();
  }

  private static Map<String, String> templateLabels(Deployment deployment) {
    PodTemplateSpec template = deployment.getSpec() == null ? null
        : deployment.getSpec().getTemplate();
    return template == null || template.getMetadata() == null
        || template.getMetadata().getLabels() == null ? Map.of()
        : template.getMetadata().getLabels();
  }

  @Override
  public FlowMachine.MainWorkload main(AppKey app) throws FlowException {
    Deployment main = mainDeployment(app).orElseThrow(() -> FlowException.conflict(
        "no single Deployment in " + app.namespace() + " has a pod template labelled "
            + appLabel + "=" + app.name() + ", " + roleLabel + "=main"));
    Integer replicas = main.getSpec().getReplicas();
    return new FlowMachine.MainWorkload(version(main), replicas == null ? 1 : replicas);
  }

  /** The version annotation, else the tag of the container's image (the whole image without). */
  private String version(Deployment deployment) {
    Map<String, String> annotations = deployment.getMetadata().getAnnotations();
    if (annotations != null && annotations.containsKey(VERSION_ANNOTATION)) {
      return annotations.get(VERSION_ANNOTATION);
    }
    String image = container(deployment).getImage();
    int colon = image.lastIndexOf(':');
    return colon > image.lastIndexOf('/') ? image.substring(colon + 1) : image;
  }

  private Container container(Deployment deployment) {
    List<Container> containers = deployment.getSpec().getTemplate().getSpec().getContainers();
    if (container.isPresent()) {
      return containers.stream().filter(c -> c.getName().equals(container.get())).findFirst()
          .orElseThrow(() -> new IllegalStateException("Deployment "
              + deployment.getMetadata().getName() + " has no container " + container.get()));
    }
    if (containers.size() != 1) {
      throw new IllegalStateException("Deployment " + deployment.getMetadata().getName()
          + " has " + containers.size() + " containers; name the one to update "
          + "(--rollout-container)");
    }
    return containers.get(0);
  }

  /** {@code version} as an image: itself if it names one, else main's image with that tag. */
  static String image(String mainImage, String version) {
    if (version.contains(":") || version.contains("/")) {
      return version;
    }
    int colon = mainImage.lastIndexOf(':');
    String repository = colon > mainImage.lastIndexOf('/') ? mainImage.substring(0, colon)
        : mainImage;
    return repository + ":" + version;
  }

  private String name(Deployment main, SubsetRole role) {
    return role == SubsetRole.MAIN ? main.getMetadata().getName()
        : main.getMetadata().getName() + "-" + role.label();
  }

  @Override
  public void apply(Flow flow, SubsetRole role, RoleTarget target) throws Exception {
    AppKey app = flow.app();
    Deployment main = mainDeployment(app).orElseThrow(() -> new IllegalStateException(
        "main's Deployment of " + app + " is gone"));
    String name = name(main, role);
    var deployments = client.apps().deployments().inNamespace(app.namespace());
    Deployment existing = deployments.withName(name).get();
    String mainImage = container(main).getImage();
    if (existing == null) {
      if (target.replicas() == 0) {
        return;
      }
      deployments.resource(derived(main, role, target, flow, mainImage)).create();
      log.info("flow {}: created Deployment {}/{} ({} x {})", flow.id(), app.namespace(), name,
          target.replicas(), target.version());
      return;
    }
    if (role != SubsetRole.MAIN) {
      List<OwnerReference> refs = ownerReferences(existing, flow);
      if (!refs.equals(orEmpty(existing.getMetadata().getOwnerReferences()))) {
        deployments.withName(name).edit(d -> {
          d.getMetadata().setOwnerReferences(refs);
          return d;
        });
        log.info("flow {}: Deployment {}/{} owner -> {}", flow.id(), app.namespace(), name,
            owner(flow).map(OwnerReference::getName).orElse("none"));
      }
    }
    if (target.replicas() > 0 && !target.version().equals(version(existing))) {
      String image = role == SubsetRole.MAIN && target.version().equals(flow.oldVersion())
          && !existingAnnotated(existing) ? container(existing).getImage()
          : image(role == SubsetRole.MAIN ? mainImage : container(existing).getImage(),
              target.version());
      String containerName = container(existing).getName();
      deployments.withName(name).edit(d -> {
        d.getMetadata().setAnnotations(withEntry(d.getMetadata().getAnnotations(),
            VERSION_ANNOTATION, target.version()));
        d.getSpec().getTemplate().getSpec().getContainers().stream()
            .filter(c -> c.getName().equals(containerName)).forEach(c -> c.setImage(image));
        return d;
      });
      log.info("flow {}: Deployment {}/{} image -> {}", flow.id(), app.namespace(), name, image);
    }
    Integer replicas = deployments.withName(name).get().getSpec().getReplicas();
    if (replicas == null || replicas != target.replicas()) {
      deployments.withName(name).scale(target.replicas());
      log.info("flow {}: Deployment {}/{} scaled to {}", flow.id(), app.namespace(), name,
          target.replicas());
    }
  }

  /**
   * The flow's CanaryRollout as an owner: the one that started it, else the one the cluster
   * flow store made for it (none when flows are kept in a file).
   */
  Optional<OwnerReference> owner(Flow flow) {
    return owners.computeIfAbsent(flow.id(), id -> CanaryRolloutFlowStore.resourceOf(client,
            flow)
        .map(resource -> new OwnerReferenceBuilder()
            .withApiVersion(CanaryRollouts.API_VERSION)
            .withKind(CanaryRollouts.KIND)
            .withName(resource.getMetadata().getName())
            .withUid(resource.getMetadata().getUid())
            .withController(false)
            .withBlockOwnerDeletion(false)
            .build()));
  }

  /** {@code deployment}'s references with any CanaryRollout owner replaced by the flow's. */
  private List<OwnerReference> ownerReferences(Deployment deployment, Flow flow) {
    List<OwnerReference> refs = new ArrayList<>();
    for (OwnerReference ref : orEmpty(deployment.getMetadata().getOwnerReferences())) {
      if (!(CanaryRollouts.KIND.equals(ref.getKind())
          && CanaryRollouts.API_VERSION.equals(ref.getApiVersion()))) {
        refs.add(ref);
      }
    }
    owner(flow).ifPresent(refs::add);
    return refs;
  }

  private static List<OwnerReference> orEmpty(List<OwnerReference> refs) {
    return refs == null ? List.of() : refs;
  }

  private static boolean existingAnnotated(Deployment deployment) {
    return deployment.getMetadata().getAnnotations() != null
        && deployment.getMetadata().getAnnotations().containsKey(VERSION_ANNOTATION);
  }

  private Deployment derived(Deployment main, SubsetRole role, RoleTarget target, Flow flow,
      String mainImage) {
    Map<String, String> selector = new HashMap<>(main.getSpec().getSelector().getMatchLabels());
    selector.put(roleLabel, role.label());
    Map<String, String> labels = new HashMap<>(templateLabels(main));
    labels.put(roleLabel, role.label());
    String containerName = container(main).getName();
    // Baseline runs the old version: main's image, unless main already runs the new one
    // (a rollback after promotion).
    String image = version(main).equals(target.version()) ? mainImage
        : image(mainImage, target.version());
    Deployment copy = new DeploymentBuilder()
        .withNewMetadata()
        .withName(name(main, role))
        .withNamespace(main.getMetadata().getNamespace())
        .addToLabels(appLabel, flow.app().name())
        .addToLabels(roleLabel, role.label())
        .addToAnnotations(VERSION_ANNOTATION, target.version())
        .addToAnnotations(FLOW_ANNOTATION, flow.id())
        .withOwnerReferences(owner(flow).stream().toList())
        .endMetadata()
        .withNewSpecLike(main.getSpec())
        .withReplicas(target.replicas())
        .withNewSelector().withMatchLabels(selector).endSelector()
        .editTemplate().editOrNewMetadata().withLabels(labels).endMetadata().endTemplate()
        .endSpec()
        .build();
    copy.getSpec().getTemplate().getSpec().getContainers().stream()
        .filter(c -> c.getName().equals(containerName)).forEach(c -> c.setImage(image));
    return copy;
  }

  private static Map<String, String> withEntry(Map<String, String> map, String key,
      String value) {
    Map<String, String> copy = map == null ? new HashMap<>() : new HashMap<>(map);
    copy.put(key, value);
    return copy;
  }

  @Override
  public RoleStatus status(AppKey app, SubsetRole role) {
    Optional<Deployment> main = mainDeployment(app);
    if (main.isEmpty()) {
      return RoleStatus.ABSENT;
    }
    Deployment deployment = role == SubsetRole.MAIN ? main.get()
        : client.apps().deployments().inNamespace(app.namespace()).withName(name(main.get(), role))
            .get();
    if (deployment == null) {
      return RoleStatus.ABSENT;
    }
    int desired = deployment.getSpec().getReplicas() == null ? 1
        : deployment.getSpec().getReplicas();
    var status = deployment.getStatus();
    int ready = status == null || status.getReadyReplicas() == null ? 0
        : status.getReadyReplicas();
    int updated = status == null || status.getUpdatedReplicas() == null ? 0
        : status.getUpdatedReplicas();
    int running = status == null || status.getReplicas() == null ? 0 : status.getReplicas();
    // Ready counts only pods of the current template: during a rolling update old pods are
    // ready too, but they run the old version.
    return new RoleStatus(version(deployment), Math.max(desired, running),
        Math.min(ready, updated));
  }

  @Override
  public String describe() {
    return "Kubernetes Deployments (" + appLabel + ", " + roleLabel + ")";
  }
}
