package dev.steelyard.rollout.kubernetes;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.steelyard.rollout.Evidence;
import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.FlowStore;
import dev.steelyard.rollout.HistoryEntry;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceList;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Flows in the cluster: each flow in the status of its CanaryRollout, so that whichever replica
 * is elected finds them without a shared volume. {@code status.flow} holds the whole durable
 * flow as JSON text (what {@code rollouts.json} holds per flow); next to it the fields {@code
 * kubectl get} shows (phase, step, waitingFor, weights, lastVerdict). A flow started by REST or
 * the CLI gets a CanaryRollout made for it ({@code <app>-<flow id>}, marked with {@value
 * #FLOW_ID_ANNOTATION} so that it starts nothing), so every flow is a resource.
 *
 * <p>Writes go through the status subresource with the resourceVersion just read: a 409 (the
 * resource changed, e.g. a user annotated it) reads it again and retries. etcd refuses objects
 * above 1.5 MiB, so {@code status.flow} is kept under {@value #MAX_FLOW_BYTES} bytes: first the
 * samples of every verdict but the newest are left out, then the oldest history entries (the
 * first, {@code started}, stays); {@code status.trimmed} says what was left out. The engine's
 * own copy keeps everything until the replica stops.
 *
 * <p>A fence against a replica that still drives after it lost the Lease (a long pause): a
 * save refuses when the stored flow is not what this store last loaded or wrote, i.e. another
 * replica wrote it since; the engine then does not act, and reloads when it is elected again.
 */
public final class CanaryRolloutFlowStore implements FlowStore {

  /** On a CanaryRollout made for a flow started elsewhere: the flow's id. */
  public static final String FLOW_ID_ANNOTATION = "steelyard.dev/flow-id";
  /** The most {@code status.flow} may take, as JSON text inside the status JSON. */
  static final int MAX_FLOW_BYTES = 1024 * 1024;
  private static final int ATTEMPTS = 5;
  private static final Logger log = LoggerFactory.getLogger(CanaryRolloutFlowStore.class);
  private static final ObjectWriter COMPACT = JSON.writer()
      .without(SerializationFeature.INDENT_OUTPUT);

  private final KubernetesClient client;
  private final List<String> namespaces;
  /** Per flow id, {@code status.flow} as this store last loaded or wrote it. */
  private final Map<String, String> lastSeen = new java.util.concurrent.ConcurrentHashMap<>();

  /** Flows of CanaryRollouts in {@code namespaces} (empty: all namespaces). */
  public CanaryRolloutFlowStore(KubernetesClient client, List<String> namespaces) {
    this.client = client;
    this.namespaces = List.copyOf(namespaces);
  }

  @Override
  public String describe() {
    return "the status of CanaryRollouts in "
        + (namespaces.isEmpty() ? "all namespaces" : "namespaces " + String.join(",", namespaces));
  }

  private MixedOperation<GenericKubernetesResource, GenericKubernetesResourceList,
      Resource<GenericKubernetesResource>> resources() {
    return client.genericKubernetesResources(CanaryRollouts.API_VERSION, CanaryRollouts.KIND);
  }

  @Override
  public List<Flow> load() throws IOException {
    List<GenericKubernetesResource> found = new ArrayList<>();
    try {
      if (namespaces.isEmpty()) {
        found.addAll(resources().inAnyNamespace().list().getItems());
      } else {
        for (String namespace : namespaces) {
          found.addAll(resources().inNamespace(namespace).list().getItems());
        }
      }
    } catch (KubernetesClientException e) {
      throw new IOException("cannot list CanaryRollouts: " + e.getMessage(), e);
    }
    List<Flow> flows = new ArrayList<>();
    for (GenericKubernetesResource resource : found) {
      Object text = status(resource).get("flow");
      if (text instanceof String json) {
        try {
          Flow flow = JSON.readValue(json, Flow.class);
          flows.add(flow);
          lastSeen.put(flow.id(), json);
        } catch (IOException e) {
          // Not skipped: a flow lost here would let a second flow take its app.
          throw new IOException("CanaryRollout " + where(resource) + ": status.flow cannot be "
              + "read: " + e.getMessage(), e);
        }
      }
    }
    flows.sort(Comparator.comparing(Flow::startedAt).thenComparing(Flow::id));
    return flows;
  }

  @Override
  public void save(Flow flow) throws IOException {
    String namespace = flow.app().namespace();
    String name = resourceName(flow);
    Stored stored = fit(flow);
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        GenericKubernetesResource resource = find(client, namespace, name)
            .orElseGet(() -> create(flow, namespace, name));
        Map<String, Object> status = new LinkedHashMap<>(status(resource));
        Object holder = status.get("flowId");
        if (holder != null && !holder.equals(flow.id())) {
          throw new IOException("CanaryRollout " + namespace + "/" + name + " holds flow "
              + holder + ", not " + flow.id());
        }
        Object current = status.get("flow");
        String seen = lastSeen.get(flow.id());
        if (current != null && seen != null && !current.equals(seen)) {
          throw new IOException("flow " + flow.id() + " in CanaryRollout " + namespace + "/"
              + name + " was written by another replica since this one read it; not "
              + "overwriting it");
        }
        status.putAll(summary(flow));
        status.put("flow", stored.json());
        if (stored.trimmed().isEmpty()) {
          status.remove("trimmed");
        } else {
          status.put("trimmed", stored.trimmed());
        }
        resource.setAdditionalProperty("status", status);
        // The resourceVersion read above goes with the update: a change since is a 409.
        resources().inNamespace(namespace).resource(resource).updateStatus();
        lastSeen.put(flow.id(), stored.json());
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == ATTEMPTS) {
          throw new IOException("cannot write flow " + flow.id() + " to CanaryRollout "
              + namespace + "/" + name + ": " + e.getMessage(), e);
        }
        log.debug("CanaryRollout {}/{} changed under flow {}; reading it again", namespace,
            name, flow.id());
      }
    }
  }

  /** The resource that holds {@code flow}: the one that started it, else one made for it. */
  static String resourceName(Flow flow) {
    String by = flow.startedBy() == null ? "" : flow.startedBy();
    if (by.startsWith(CanaryRollouts.STARTED_BY)) {
      String[] where = by.substring(CanaryRollouts.STARTED_BY.length()).split("/", 2);
      if (where.length == 2 && where[0].equals(flow.app().namespace())) {
        return where[1];
      }
    }
    return flow.app().name() + "-" + flow.id();
  }

  /**
   * The CanaryRollout of {@code flow}: the one that started it, else the one this store made
   * for it (none when flows are kept in a file).
   */
  static Optional<GenericKubernetesResource> resourceOf(KubernetesClient client, Flow flow) {
    return CanaryRollouts.startedBy(client, flow)
        .or(() -> find(client, flow.app().namespace(), resourceName(flow))
            .filter(r -> r.getMetadata().getAnnotations() != null && flow.id().equals(
                r.getMetadata().getAnnotations().get(FLOW_ID_ANNOTATION))));
  }

  /** Found with a list by name: the ClusterRole grants list, not get, on canaryrollouts. */
  static Optional<GenericKubernetesResource> find(KubernetesClient client, String namespace,
      String name) {
    return client.genericKubernetesResources(CanaryRollouts.API_VERSION, CanaryRollouts.KIND)
        .inNamespace(namespace).withField("metadata.name", name).list().getItems().stream()
        .findFirst();
  }

  /**
   * The resource for a flow started by REST or the CLI (or for one whose resource was deleted
   * while it ran): its spec says what the flow does, the annotation that it starts nothing.
   * A 409 (made meanwhile) throws, and the caller's next attempt finds it.
   */
  private GenericKubernetesResource create(Flow flow, String namespace, String name) {
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("app", flow.app().name());
    spec.put("kind", flow.kind().label());
    spec.put("version", flow.newVersion());
    if (flow.oldVersion() != null && !flow.oldVersion().isEmpty()) {
      spec.put("fromVersion", flow.oldVersion());
    }
    if (!flow.stepsBasisPoints().isEmpty()) {
      spec.put("steps", flow.stepsBasisPoints().stream().map(bp -> bp / 100.0).toList());
    }
    GenericKubernetesResource resource = new GenericKubernetesResourceBuilder()
        .withApiVersion(CanaryRollouts.API_VERSION).withKind(CanaryRollouts.KIND)
        .withNewMetadata().withName(name).withNamespace(namespace)
        .addToAnnotations(FLOW_ID_ANNOTATION, flow.id())
        .addToAnnotations("steelyard.dev/started-by", String.valueOf(flow.startedBy()))
        .endMetadata().build();
    resource.setAdditionalProperty("spec", spec);
    GenericKubernetesResource created = resources().inNamespace(namespace).resource(resource)
        .create();
    log.info("flow {} of {} is kept in CanaryRollout {}/{}", flow.id(), flow.app(), namespace,
        name);
    return created;
  }

  /** What {@code kubectl get} shows of a flow, next to the flow itself. */
  static Map<String, Object> summary(Flow flow) {
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("flowId", flow.id());
    summary.put("phase", flow.phase().label());
    summary.put("step", flow.step() + 1);
    summary.put("waitingFor", flow.waitingFor());
    summary.put("weights", flow.split().toString() + " (main/baseline/canary "
        + flow.split().weights() + ")");
    CanaryRollouts.lastVerdict(flow).ifPresent(verdict -> summary.put("lastVerdict", verdict));
    return summary;
  }

  /** {@code status.flow} and what was left out of it to fit. */
  record Stored(String json, String trimmed) {}

  /** The flow as stored: whole when it fits in {@link #MAX_FLOW_BYTES}, else trimmed. */
  static Stored fit(Flow flow) throws JsonProcessingException {
    String json = COMPACT.writeValueAsString(flow);
    if (size(json) <= MAX_FLOW_BYTES) {
      return new Stored(json, "");
    }
    // Samples are most of a verdict's size; the newest verdict keeps them.
    List<HistoryEntry> history = new ArrayList<>(flow.history());
    int newestEvidence = -1;
    for (int i = 0; i < history.size(); i++) {
      if (history.get(i).evidence() != null) {
        newestEvidence = i;
      }
    }
    int withoutSamples = 0;
    for (int i = 0; i < newestEvidence; i++) {
      HistoryEntry entry = history.get(i);
      Evidence e = entry.evidence();
      if (e != null && !e.samples().isEmpty()) {
        history.set(i, new HistoryEntry(entry.at(), entry.flowId(), entry.event(),
            entry.detail(), entry.by(), entry.acks(), new Evidence(e.acked(), e.from(), e.to(),
                e.errors(), e.metrics(), Map.of(), e.reporters())));
        withoutSamples++;
      }
    }
    json = COMPACT.writeValueAsString(flow.withHistory(history));
    int dropped = 0;
    while (size(json) > MAX_FLOW_BYTES && history.size() > 2) {
      // Drop the oldest entries after the first worth the excess (measured per entry), then
      // measure the whole again.
      long excess = size(json) - MAX_FLOW_BYTES;
      while (excess > 0 && history.size() > 2) {
        excess -= size(COMPACT.writeValueAsString(history.remove(1)));
        dropped++;
      }
      json = COMPACT.writeValueAsString(flow.withHistory(history));
    }
    List<String> left = new ArrayList<>();
    if (withoutSamples > 0) {
      left.add("the samples of " + withoutSamples + " older verdict(s)");
    }
    if (dropped > 0) {
      left.add("the " + dropped + " oldest history entries after the first");
    }
    return new Stored(json, String.join(" and ", left) + " left out to stay under "
        + MAX_FLOW_BYTES + " bytes (etcd's object limit)");
  }

  /** Bytes {@code json} takes as a string inside the status JSON (quotes escaped). */
  private static long size(String json) throws JsonProcessingException {
    return COMPACT.writeValueAsString(json).getBytes(StandardCharsets.UTF_8).length;
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> status(GenericKubernetesResource resource) {
    Object status = resource.getAdditionalProperties().get("status");
    return status instanceof Map<?, ?> map ? (Map<String, Object>) map : Map.of();
  }

  static String where(GenericKubernetesResource resource) {
    return resource.getMetadata().getNamespace() + "/" + resource.getMetadata().getName();
  }
}
