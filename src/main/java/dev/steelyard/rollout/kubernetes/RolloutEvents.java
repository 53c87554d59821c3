package dev.steelyard.rollout.kubernetes;

import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.HistoryEntry;
import dev.steelyard.rollout.HistoryListener;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every history entry of a flow as a core/v1 Event: on the CanaryRollout that started the flow,
 * else on main's Deployment. Reason is the entry's event capitalised ({@code scale} ->
 * {@code Scale}, {@code forced-split} -> {@code ForcedSplit}), message its detail (at most
 * 1 KiB), type Warning for rollbacks and aborts, else Normal.
 *
 * <p>Identical events (same object, reason, type and message) are aggregated as Kubernetes'
 * own recorder does: the existing Event's {@code count} and {@code lastTimestamp} are patched
 * instead of a new Event being created. The writes run on a thread of their own behind a
 * bounded queue, so a slow API server never holds up the engine; what does not fit is dropped
 * with a warning (the flow's history keeps everything).
 */
public final class RolloutEvents implements HistoryListener, AutoCloseable {

  static final int MAX_MESSAGE_BYTES = 1024;
  private static final int MAX_QUEUED = 1_000;
  private static final int MAX_AGGREGATED = 256;
  private static final Logger log = LoggerFactory.getLogger(RolloutEvents.class);

  private final KubernetesClient client;
  private final KubernetesWorkloads workloads;
  private final String instance;
  private final ExecutorService writer = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
      new LinkedBlockingQueue<>(MAX_QUEUED), runnable -> {
        Thread thread = new Thread(runnable, "steelyard-rollout-events");
        thread.setDaemon(true);
        return thread;
      });
  /** Where each flow's events go, found once per flow. */
  private final Map<String, ObjectReference> objects = new LinkedHashMap<>();
  /** Events as created and their counts by what makes events identical; the oldest are forgotten. */
  private final Map<String, Aggregate> aggregates = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Aggregate> eldest) {
      return size() > MAX_AGGREGATED;
    }
  };
  private boolean warnedFull;

  private record Aggregate(Event event, int count) {}

  /** {@code instance} names this replica in {@code reportingInstance} (the pod name). */
  public RolloutEvents(KubernetesClient client, KubernetesWorkloads workloads, String instance) {
    this.client = client;
    this.workloads = workloads;
    this.instance = instance;
  }

  @Override
  public void recorded(Flow flow, List<HistoryEntry> entries) {
    if (entries.isEmpty()) {
      return;
    }
    List<HistoryEntry> copy = List.copyOf(entries);
    try {
      writer.execute(() -> copy.forEach(entry -> write(flow, entry)));
    } catch (RejectedExecutionException e) {
      if (!writer.isShutdown() && !warnedFull) {
        warnedFull = true;
        log.warn("flow {} of {}: {} Events pending; dropping Events (the history keeps all)",
            flow.id(), flow.app(), MAX_QUEUED);
      }
    }
  }

  private void write(Flow flow, HistoryEntry entry) {
    try {
      Optional<ObjectReference> object = object(flow);
      if (object.isEmpty()) {
        return;
      }
      record(object.get(), reason(entry.event()), type(entry), truncate(entry.detail()));
      warnedFull = false;
    } catch (RuntimeException e) {
      log.warn("flow {} of {}: Event {} not written: {}", flow.id(), flow.app(), entry.event(),
          e.getMessage());
    }
  }

  /** The flow's CanaryRollout (applied, or made for a REST flow), else main's Deployment. */
  private Optional<ObjectReference> object(Flow flow) {
    ObjectReference known = objects.get(flow.id());
    if (known != null) {
      return Optional.of(known);
    }
    Optional<? extends HasMetadata> found = CanaryRolloutFlowStore.resourceOf(client, flow);
    if (found.isEmpty()) {
      found = workloads.mainDeployment(flow.app());
    }
    Optional<ObjectReference> object = found.map(o -> new ObjectReferenceBuilder()
        .withApiVersion(o.getApiVersion()).withKind(o.getKind())
        .withNamespace(o.getMetadata().getNamespace()).withName(o.getMetadata().getName())
        .withUid(o.getMetadata().getUid()).build());
    object.ifPresent(o -> objects.put(flow.id(), o));
    return object;
  }

  private void record(ObjectReference object, String reason, String type, String message) {
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    String key = object.getUid() + "\n" + reason + "\n" + type + "\n" + message;
    var events = client.v1().events().inNamespace(object.getNamespace());
    Aggregate seen = aggregates.get(key);
    if (seen != null) {
      try {
        // A merge patch on the Event as created, so the client does not read it first: the
        // ClusterRole grants create and patch only.
        events.resource(seen.event()).patch(PatchContext.of(PatchType.JSON_MERGE),
            "{\"count\":" + (seen.count() + 1) + ",\"lastTimestamp\":\"" + now + "\"}");
        aggregates.put(key, new Aggregate(seen.event(), seen.count() + 1));
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 404) {
          throw e;
        }
        // The API server let it expire (the default event TTL is one hour): a new one.
      }
    }
    String name = object.getName() + "." + UUID.randomUUID().toString().replace("-", "")
        .substring(0, 16);
    Event event = new EventBuilder()
        .withNewMetadata().withName(name).withNamespace(object.getNamespace()).endMetadata()
        .withInvolvedObject(object)
        .withReason(reason)
        .withMessage(message)
        .withType(type)
        .withCount(1)
        .withFirstTimestamp(now)
        .withLastTimestamp(now)
        .withNewSource().withComponent("steelyard").endSource()
        .withReportingComponent("steelyard.dev/rollouts")
        .withReportingInstance(instance)
        .build();
    aggregates.put(key, new Aggregate(events.resource(event).create(), 1));
  }

  /** {@code forced-split} -> {@code ForcedSplit}. */
  static String reason(String event) {
    StringBuilder reason = new StringBuilder();
    for (String part : event.split("-")) {
      if (!part.isEmpty()) {
        reason.append(part.substring(0, 1).toUpperCase(Locale.ROOT)).append(part.substring(1));
      }
    }
    return reason.toString();
  }

  /** Warning for what takes the new version away or stops a flow: rollbacks and aborts. */
  static String type(HistoryEntry entry) {
    String detail = entry.detail();
    boolean warning = switch (entry.event()) {
      case "rollback", "abort" -> true;
      case "judgment" -> detail.contains(": roll back (");
      case "phase" -> detail.contains("-> rollback-") || detail.contains("-> rolled-back")
          || detail.contains("-> abort");
      default -> false;
    };
    return warning ? "Warning" : "Normal";
  }

  /** At most {@value #MAX_MESSAGE_BYTES} bytes of UTF-8, cut at a character. */
  static String truncate(String message) {
    byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
    if (bytes.length <= MAX_MESSAGE_BYTES) {
      return message;
    }
    // A character is at least one byte, so no more than that many characters fit.
    int end = Math.min(message.length(), MAX_MESSAGE_BYTES - 3);
    while (message.substring(0, end).getBytes(StandardCharsets.UTF_8).length
        > MAX_MESSAGE_BYTES - 3) {
      end--;
    }
    if (end > 0 && Character.isHighSurrogate(message.charAt(end - 1))) {
      end--;
    }
    return message.substring(0, end) + "...";
  }

  @Override
  public void close() {
    writer.shutdownNow();
  }
}
