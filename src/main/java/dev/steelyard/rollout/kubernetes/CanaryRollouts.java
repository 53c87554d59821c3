package dev.steelyard.rollout.kubernetes;

import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.FlowException;
import dev.steelyard.rollout.FlowRequest;
import dev.steelyard.rollout.FlowStore;
import dev.steelyard.rollout.RolloutEngine;
import dev.steelyard.view.AppKey;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
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
 * describes, once; its status then follows the flow (phase, step, what it waits for, weights).
 * Polled every {@code interval} (a list per round), so a status lags the flow by that much.
 */
public final class CanaryRollouts implements AutoCloseable {

  public static final String API_VERSION = "steelyard.dev/v1alpha1";
  public static final String KIND = "CanaryRollout";
  /** A flow's {@code startedBy} when a resource started it: this, then namespace/name. */
  public static final String STARTED_BY = KIND + " ";
  private static final Logger log = LoggerFactory.getLogger(CanaryRollouts.class);

  private final KubernetesClient client;
  private final RolloutEngine engine;
  private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(
      runnable -> {
        Thread thread = new Thread(runnable, "steelyard-canaryrollouts");
        thread.setDaemon(true);
        return thread;
      });

  private CanaryRollouts(KubernetesClient client, RolloutEngine engine) {
    this.client = client;
    this.engine = engine;
  }

  public static CanaryRollouts start(KubernetesClient client, RolloutEngine engine,
      long intervalMillis) {
    CanaryRollouts rollouts = new CanaryRollouts(client, engine);
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

  @SuppressWarnings("unchecked")
  void round() {
    if (!engine.leading()) {
      return;
    }
    List<GenericKubernetesResource> resources = client.genericKubernetesResources(API_VERSION,
        KIND).inAnyNamespace().list().getItems();
    for (GenericKubernetesResource resource : resources) {
      Map<String, Object> spec = (Map<String, Object>) resource.getAdditionalProperties()
          .getOrDefault("spec", Map.of());
      Map<String, Object> status = (Map<String, Object>) resource.getAdditionalProperties()
          .getOrDefault("status", Map.of());
      String where = resource.getMetadata().getNamespace() + "/" + resource.getMetadata()
          .getName();
      AppKey app = new AppKey(resource.getMetadata().getNamespace(),
          String.valueOf(spec.getOrDefault("app", "")));
      Map<String, Object> next = new LinkedHashMap<>(status);
      if (!status.containsKey("flowId") && !status.containsKey("message")) {
        Map<String, Object> request = new HashMap<>(spec);
        request.remove("app");
        try {
          FlowRequest flowRequest = FlowStore.JSON.convertValue(request, FlowRequest.class);
          Flow flow = engine.start(app, flowRequest, STARTED_BY + where);
          next.put("flowId", flow.id());
          log.info("CanaryRollout {} started flow {} of {}", where, flow.id(), app);
        } catch (FlowException | IllegalArgumentException e) {
          next.put("message", e.getMessage());
          log.warn("CanaryRollout {} cannot start a flow: {}", where, e.getMessage());
        } catch (java.io.IOException e) {
          log.error("CanaryRollout {}: cannot persist its flow", where, e);
          continue;
        }
      }
      Object flowId = next.get("flowId");
      Optional<Flow> flow = flowId == null ? Optional.empty() : engine.latest(app)
          .filter(f -> f.id().equals(flowId));
      flow.ifPresent(f -> {
        next.put("phase", f.phase().label());
        next.put("step", f.step() + 1);
        next.put("waitingFor", f.waitingFor());
        next.put("weights", f.split().toString() + " (main/baseline/canary "
            + f.split().weights() + ")");
        lastVerdict(f).ifPresent(verdict -> next.put("lastVerdict", verdict));
      });
      if (!next.equals(status)) {
        resource.getAdditionalProperties().put("status", next);
        try {
          client.genericKubernetesResources(API_VERSION, KIND)
              .inNamespace(resource.getMetadata().getNamespace()).resource(resource)
              .updateStatus();
        } catch (RuntimeException e) {
          log.warn("CanaryRollout {}: status not written ({}); next round", where,
              e.getMessage());
        }
      }
    }
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
