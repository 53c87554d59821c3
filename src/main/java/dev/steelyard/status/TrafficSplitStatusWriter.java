package dev.steelyard.status;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.steelyard.feedback.ProxyRegistry;
import dev.steelyard.loop.BackgroundLoops;
import dev.steelyard.publish.PublishedState;
import dev.steelyard.publish.SnapshotPublisher;
import dev.steelyard.split.SplitSnapshot;
import dev.steelyard.split.kubernetes.TrafficSplitStore;
import dev.steelyard.split.kubernetes.TrafficSplits;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one writer of TrafficSplit status, on its own thread: after each publish, after each
 * validation, and every {@code refresh} (ACK counts change without a publish). A status is
 * written only when it differs from what the resource has, so idle rewrites cost nothing. Each
 * round describes one published state ({@link TrafficSplitStatus}); a round after a validation
 * only updates the conditions, as nothing new is published yet.
 *
 * <p>No leader election: every replica writes, and that is safe because the shared fields are
 * computed from the same cluster state (content-hash versions, the same splits), each replica
 * touches only its own {@code replicas} entry, and updates use optimistic locking (a conflict is
 * retried on the next round with the fresh resource).
 */
public final class TrafficSplitStatusWriter implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TrafficSplitStatusWriter.class);
  private static final ObjectMapper CANONICAL = new ObjectMapper()
      .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  private final TrafficSplitStore store;
  private final SnapshotPublisher publisher;
  private final ProxyRegistry proxies;
  private final String replicaId;
  private final Duration refresh;
  private final AtomicBoolean queued = new AtomicBoolean();
  private volatile ScheduledFuture<?> periodic;
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(
      runnable -> {
        Thread t = new Thread(runnable, "steelyard-split-status");
        t.setDaemon(true);
        return t;
      });

  public TrafficSplitStatusWriter(TrafficSplitStore store, SnapshotPublisher publisher,
      ProxyRegistry proxies, String replicaId, Duration refresh) {
    this.store = store;
    this.publisher = publisher;
    this.proxies = proxies;
    this.replicaId = replicaId;
    this.refresh = refresh;
  }

  public TrafficSplitStatusWriter start() {
    publisher.onPublished(state -> requestWrite());
    store.onValidation(this::requestWrite);
    periodic = thread.scheduleWithFixedDelay(
        BackgroundLoops.surviving("TrafficSplit status writer", this::writeAll), 0,
        refresh.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** Registers the periodic round, so that a writer that stopped shows in readiness. */
  public void registerLoops(BackgroundLoops loops) {
    loops.register("TrafficSplit status writer", () -> periodic, thread::isShutdown);
  }

  /** Queues one write round; many requests before it runs make one round. */
  public void requestWrite() {
    if (!thread.isShutdown() && queued.compareAndSet(false, true)) {
      try {
        thread.execute(BackgroundLoops.surviving("TrafficSplit status writer", () -> {
          queued.set(false);
          writeAll();
        }));
      } catch (RejectedExecutionException e) {
        // Closing: the last round is not needed.
      }
    }
  }

  private void writeAll() {
    // Published first: the store read after it is as new or newer, never older.
    PublishedState published = publisher.current();
    SplitSnapshot accepted = store.snapshot();
    var connected = proxies.proxies();
    Instant now = Instant.now();
    for (GenericKubernetesResource resource : store.resources()) {
      var key = TrafficSplits.key(resource);
      try {
        write(resource, existing -> TrafficSplitStatus.desired(key, store.validation(key),
            accepted, published, connected, replicaId, existing, now));
      } catch (RuntimeException e) {
        // An exception would cancel the periodic task for good; log it and go on.
        log.warn("cannot write the status of TrafficSplit {}", key, e);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private void write(GenericKubernetesResource resource,
      Function<Map<String, Object>, Map<String, Object>> desiredFrom) {
    Object current = resource.getAdditionalProperties().get("status");
    Map<String, Object> existing = current instanceof Map<?, ?> map
        ? (Map<String, Object>) map : Map.of();
    Map<String, Object> desired = desiredFrom.apply(existing);
    if (canonical(desired).equals(canonical(existing))) {
      return;
    }
    GenericKubernetesResource updated = new GenericKubernetesResource();
    updated.setApiVersion(resource.getApiVersion());
    updated.setKind(resource.getKind());
    updated.setMetadata(resource.getMetadata());
    updated.getAdditionalProperties().putAll(resource.getAdditionalProperties());
    updated.setAdditionalProperty("status", desired);
    try {
      store.client().genericKubernetesResources(TrafficSplits.CONTEXT)
          .inNamespace(resource.getMetadata().getNamespace())
          .resource(updated).updateStatus();
    } catch (KubernetesClientException e) {
      if (e.getCode() == HttpURLConnection.HTTP_CONFLICT) {
        log.debug("status of {} changed meanwhile; retrying", TrafficSplits.key(resource));
        thread.schedule(this::requestWrite, 200, TimeUnit.MILLISECONDS);
      } else if (e.getCode() != HttpURLConnection.HTTP_NOT_FOUND) {
        log.warn("cannot write the status of TrafficSplit {}: {}", TrafficSplits.key(resource),
            e.getMessage());
      }
    }
  }

  private static String canonical(Object value) {
    try {
      return CANONICAL.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      return String.valueOf(Objects.hashCode(value));
    }
  }

  /** Stops writing and takes this replica's entry out of every status, best effort. */
  @Override
  public void close() {
    thread.shutdownNow();
    try {
      thread.awaitTermination(5, TimeUnit.SECONDS);
      for (GenericKubernetesResource resource : store.resources()) {
        write(resource, existing -> TrafficSplitStatus.withoutReplica(existing, replicaId));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.debug("could not remove replica {} from statuses: {}", replicaId, e.toString());
    }
  }
}
