package dev.steelyard.rollout.kubernetes;

import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.FlowException;
import dev.steelyard.rollout.FlowRequest;
import dev.steelyard.rollout.FlowStore;
import dev.steelyard.rollout.RolloutEngine;
import dev.steelyard.view.AppKey;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import dev.steelyard.rollout.Phase;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code steelyard.dev/v1alpha1 CanaryRollout} resources ({@code k8s/crd/canaryrollout.yaml}):
 * on the replica that drives flows, each resource without a flow starts the flow its spec
 * describes, once, and the commands annotated on a resource are carried out once. The flow's
 * state and the status fields {@code kubectl get} shows are written by
 * {@link CanaryRolloutFlowStore} at every transition; this loop writes only {@code
 * status.message} (why a flow could not start, or why an annotation was refused). Polled every
 * {@code interval} (a list per round), so an annotation takes effect within that.
 *
 * <p>Annotations, removed once carried out (the removal is the acknowledgement, the flow's
 * history and an Event say who and when):
 * <ul>
 *   <li>{@value #APPROVE}{@code =N} approves step N (the STEP column). Given before step N's
 *       gate opens, it waits for it; naming a step already approved it is just removed. The
 *       step number makes a stale annotation harmless: it can never approve a later gate.
 *   <li>{@value #ROLLBACK} (any value, e.g. the reason) rolls back; repeating it while the
 *       rollback runs changes nothing.
 *   <li>{@value #ABORT} (any value) aborts: traffic to main, workloads left as they are.
 * </ul>
 * Each is safe to see twice: a replica that takes over after carrying one out but before
 * removing it finds the flow already approved, rolling back or aborting.
 */
public final class CanaryRollouts implements AutoCloseable {

  public static final String API_VERSION = "steelyard.dev/v1alpha1";
  public static final String KIND = "CanaryRollout";
  /** A flow's {@code startedBy} when a resource started it: this, then namespace/name. */
  public static final String STARTED_BY = KIND + " ";
  public static final String APPROVE = "steelyard.dev/approve";
  public static final String ROLLBACK = "steelyard.dev/rollback";
  public static final String ABORT = "steelyard.dev/abort";
  private static final Logger log = LoggerFactory.getLogger(CanaryRollouts.class);

  private final KubernetesClient client;
  private final RolloutEngine engine;
  private final List<String> namespaces;
  private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(
      runnable -> {
        Thread thread = new Thread(runnable, "steelyard-canaryrollouts");
        thread.setDaemon(true);
        return thread;
      });

  private CanaryRollouts(KubernetesClient client, RolloutEngine engine,
      List<String> namespaces) {
    this.client = client;
    this.engine = engine;
    this.namespaces = List.copyOf(namespaces);
  }

  /** Watches CanaryRollouts in every namespace. */
  public static CanaryRollouts start(KubernetesClient client, RolloutEngine engine,
      long intervalMillis) {
    return start(client, engine, intervalMillis, List.of());
  }

  /** Watches CanaryRollouts in {@code namespaces} (empty: all). */
  public static CanaryRollouts start(KubernetesClient client, RolloutEngine engine,
      long intervalMillis, List<String> namespaces) {
    CanaryRollouts rollouts = new CanaryRollouts(client, engine, namespaces);
    rollouts.loop.scheduleWithFixedDelay(rollouts::roundSafely, 0, intervalMillis,
        TimeUnit.MILLISECONDS);
    return rollouts;
  }

  private void roundSafely() {
    try {
      round();
    } catch (RuntimeException e) {
      log.warn("CanaryRollout round failed: {}", e.toString());
    }
  }

  private List<GenericKubernetesResource> list() {
    var resources = client.genericKubernetesResources(API_VERSION, KIND);
    if (namespaces.isEmpty()) {
      return resources.inAnyNamespace().list().getItems();
    }
    List<GenericKubernetesResource> found = new java.util.ArrayList<>();
    for (String namespace : namespaces) {
      found.addAll(resources.inNamespace(namespace).list().getItems());
    }
    return found;
  }

  @SuppressWarnings("unchecked")
  void round() {
    if (!engine.leading()) {
      return;
    }
    for (GenericKubernetesResource resource : list()) {
      Map<String, Object> spec = (Map<String, Object>) resource.getAdditionalProperties()
          .getOrDefault("spec", Map.of());
      Map<String, Object> status = CanaryRolloutFlowStore.status(resource);
      String where = CanaryRolloutFlowStore.where(resource);
      AppKey app = new AppKey(resource.getMetadata().getNamespace(),
          String.valueOf(spec.getOrDefault("app", "")));
      Map<String, String> annotations = resource.getMetadata().getAnnotations() == null
          ? Map.of() : resource.getMetadata().getAnnotations();
      Object flowId = status.get("flowId");
      if (flowId == null && annotations.containsKey(CanaryRolloutFlowStore.FLOW_ID_ANNOTATION)) {
        // Made for a flow started by REST; the store writes its status on the next save.
        flowId = annotations.get(CanaryRolloutFlowStore.FLOW_ID_ANNOTATION);
      }
      if (flowId == null && !status.containsKey("message")) {
        Map<String, Object> request = new HashMap<>(spec);
        request.remove("app");
        try {
          FlowRequest flowRequest = FlowStore.JSON.convertValue(request, FlowRequest.class);
          // The store writes the flow into this resource's status before start returns.
          Flow flow = engine.start(app, flowRequest, STARTED_BY + where);
          flowId = flow.id();
          log.info("CanaryRollout {} started flow {} of {}", where, flow.id(), app);
        } catch (FlowException | IllegalArgumentException e) {
          writeMessage(resource, e.getMessage());
          log.warn("CanaryRollout {} cannot start a flow: {}", where, e.getMessage());
          continue;
        } catch (java.io.IOException e) {
          log.error("CanaryRollout {}: cannot persist its flow", where, e);
          continue;
        }
      }
      if (flowId != null) {
        String id = String.valueOf(flowId);
        for (String command : List.of(ABORT, ROLLBACK, APPROVE)) {
          if (annotations.containsKey(command)) {
            carryOut(resource, app, id, command, annotations.get(command));
          }
        }
      }
    }
  }

  /** One annotated command: carried out and removed, refused and removed, or left to wait. */
  private void carryOut(GenericKubernetesResource resource, AppKey app, String flowId,
      String command, String value) {
    String where = CanaryRolloutFlowStore.where(resource);
    Optional<Flow> found = engine.flows(app).stream().filter(f -> f.id().equals(flowId))
        .findFirst();
    if (found.isEmpty()) {
      return;
    }
    Flow flow = found.get();
    String by = "annotation " + command + "=" + value + " on " + KIND + " " + where
        + manager(resource, command).map(m -> " (set by " + m + ")").orElse("");
    String refused = null;
    try {
      if (command.equals(ROLLBACK) && (flow.phase().rollingBack()
          || flow.phase() == Phase.ROLLED_BACK)
          || command.equals(ABORT) && flow.phase() == Phase.ABORTED) {
        log.info("CanaryRollout {}: {} carried out already", where, command);
      } else if (!flow.active()) {
        refused = "the flow is " + flow.phase().label();
      } else if (command.equals(APPROVE)) {
        int step;
        try {
          step = Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
          step = -1;
        }
        int steps = flow.stepsBasisPoints().size();
        boolean stepping = flow.phase().name().startsWith("STEP_");
        if (flow.kind() != dev.steelyard.rollout.FlowKind.DEPLOY) {
          refused = "a canary test has no gates to approve";
        } else if (step < 1 || step > steps) {
          refused = "'" + value + "' is not a step number of this flow (1 to " + steps + ")";
        } else if (step - 1 <= flow.approvedStep()) {
          log.info("CanaryRollout {}: step {} was approved already", where, step);
        } else if (!stepping) {
          refused = "the flow is " + flow.phase().label() + "; step " + step
              + "'s gate will not open";
        } else if (flow.phase() == Phase.STEP_JUDGING && flow.step() == step - 1) {
          engine.approve(app, by);
          log.info("CanaryRollout {}: step {} approved by annotation", where, step);
        } else {
          return; // before its gate opens: it waits for it
        }
      } else if (command.equals(ROLLBACK)) {
        engine.rollback(app, by);
      } else {
        engine.abort(app, by);
      }
    } catch (FlowException e) {
      if (e.status() == 503) {
        return; // no longer leading: the next leader carries it out
      }
      refused = e.getMessage();
    } catch (java.io.IOException e) {
      log.warn("CanaryRollout {}: {}={} not carried out yet: {}", where, command, value,
          e.getMessage());
      return;
    }
    if (refused != null) {
      log.warn("CanaryRollout {}: {}={} refused: {}", where, command, value, refused);
      if (!writeMessage(resource, command + "=" + value + " refused: " + refused)) {
        return;
      }
    }
    remove(resource, command, value);
  }

  /** Removes the annotation if it still has the value carried out (a JSON patch test). */
  private void remove(GenericKubernetesResource resource, String command, String value) {
    String path = "/metadata/annotations/" + command.replace("~", "~0").replace("/", "~1");
    try {
      String patch = FlowStore.JSON.writeValueAsString(List.of(
          Map.of("op", "test", "path", path, "value", value),
          Map.of("op", "remove", "path", path)));
      // On the resource as listed, so the client does not read it first (no get granted).
      client.genericKubernetesResources(API_VERSION, KIND)
          .inNamespace(resource.getMetadata().getNamespace()).resource(resource)
          .patch(PatchContext.of(PatchType.JSON), patch);
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      // Changed meanwhile (the test failed) or not reachable: the next round looks again. A
      // refusal (403) will not pass by itself, so it is a warning.
      String where = CanaryRolloutFlowStore.where(resource);
      if (e.getCode() == 403) {
        log.warn("CanaryRollout {}: annotation {} not removed: {}", where, command,
            e.getMessage());
      } else {
        log.info("CanaryRollout {}: annotation {} not removed yet: {}", where, command,
            e.getMessage());
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Writes {@code status.message}; false when the resource changed meanwhile (409). */
  private boolean writeMessage(GenericKubernetesResource resource, String message) {
    Map<String, Object> status = new LinkedHashMap<>(CanaryRolloutFlowStore.status(resource));
    status.put("message", message);
    resource.getAdditionalProperties().put("status", status);
    try {
      client.genericKubernetesResources(API_VERSION, KIND)
          .inNamespace(resource.getMetadata().getNamespace()).resource(resource)
          .updateStatus();
      return true;
    } catch (RuntimeException e) {
      log.warn("CanaryRollout {}: status not written ({}); next round",
          CanaryRolloutFlowStore.where(resource), e.getMessage());
      return false;
    }
  }

  /** Who set the annotation, as the API server recorded it: the field manager (kubectl...). */
  @SuppressWarnings("unchecked")
  static Optional<String> manager(GenericKubernetesResource resource, String annotation) {
    if (resource.getMetadata().getManagedFields() == null) {
      return Optional.empty();
    }
    String manager = null;
    for (var entry : resource.getMetadata().getManagedFields()) {
      if (entry.getFieldsV1() == null || entry.getManager() == null) {
        continue;
      }
      Object metadata = entry.getFieldsV1().getAdditionalProperties().get("f:metadata");
      Object annotations = metadata instanceof Map<?, ?> m ? m.get("f:annotations") : null;
      if (annotations instanceof Map<?, ?> a && a.containsKey("f:" + annotation)) {
        manager = entry.getManager();
      }
    }
    return Optional.ofNullable(manager);
  }

  @Override
  public void close() {
    loop.shutdownNow();
  }

  /**
   * The CanaryRollout that started {@code flow}, if one did and it still exists. Found with a
   * list by name (the ClusterRole grants list, not get, on canaryrollouts).
   */
  static Optional<GenericKubernetesResource> startedBy(KubernetesClient client, Flow flow) {
    if (flow.startedBy() == null || !flow.startedBy().startsWith(STARTED_BY)) {
      return Optional.empty();
    }
    String[] where = flow.startedBy().substring(STARTED_BY.length()).split("/", 2);
    if (where.length != 2) {
      return Optional.empty();
    }
    return client.genericKubernetesResources(API_VERSION, KIND).inNamespace(where[0])
        .withField("metadata.name", where[1]).list().getItems().stream().findFirst();
  }

  /**
   * The newest automatic verdict for the status: when, what, and the evidence without its
   * samples (a status is read by every kubectl get; the history keeps the samples).
   */
  @SuppressWarnings("unchecked")
  static Optional<Map<String, Object>> lastVerdict(Flow flow) {
    for (int i = flow.history().size() - 1; i >= 0; i--) {
      var entry = flow.history().get(i);
      if (entry.evidence() != null) {
        Map<String, Object> evidence = FlowStore.JSON.convertValue(entry.evidence(), Map.class);
        evidence.remove("samples");
        Map<String, Object> verdict = new LinkedHashMap<>();
        verdict.put("at", entry.at().toString());
        verdict.put("detail", entry.detail());
        verdict.put("evidence", evidence);
        return Optional.of(verdict);
      }
    }
    return Optional.empty();
  }
}
