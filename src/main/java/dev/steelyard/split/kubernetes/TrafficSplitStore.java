package dev.steelyard.split.kubernetes;

import dev.steelyard.split.AppSplits;
import dev.steelyard.split.InvalidSplitException;
import dev.steelyard.split.SplitSnapshot;
import dev.steelyard.split.SplitStore;
import dev.steelyard.view.AppKey;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Splits kept in the cluster as {@code TrafficSplit} resources, so every replica serves the same
 * ones. The informer is the one way state changes: {@link #set} writes the resource and waits
 * until the informer has seen that write, and a {@code kubectl edit} arrives the same way.
 *
 * <p>A resource whose spec is invalid keeps the app's last good split in memory; its validation
 * error is kept for the status writer, which reports it as condition {@code Valid=False}. Each
 * split is kept with the generation of the spec it was read from, so the status can name the
 * generation a published view carries.
 */
public final class TrafficSplitStore implements SplitStore {

  private static final Logger log = LoggerFactory.getLogger(TrafficSplitStore.class);
  private static final int WRITE_ATTEMPTS = 5;

  /** How the latest spec of one resource was judged. */
  public record Validation(Long generation, String resourceVersion, Optional<String> error) {}

  private final KubernetesClient client;
  private final List<SharedIndexInformer<GenericKubernetesResource>> informers = new ArrayList<>();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final List<Runnable> validationListeners = new CopyOnWriteArrayList<>();
  private final Map<AppKey, Validation> validations = new ConcurrentHashMap<>();
  private final Duration writeTimeout;
  private volatile SplitSnapshot splits = SplitSnapshot.EMPTY;

  private TrafficSplitStore(KubernetesClient client, Duration writeTimeout) {
    this.client = client;
    this.writeTimeout = writeTimeout;
  }

  /** Starts informers on TrafficSplits in {@code namespaces} (empty: all) and waits for a list. */
  public static TrafficSplitStore start(KubernetesClient client, List<String> namespaces,
      Duration syncTimeout) throws IOException {
    TrafficSplitStore store = new TrafficSplitStore(client, Duration.ofSeconds(10));
    List<CompletableFuture<Void>> started = new ArrayList<>();
    for (String namespace : namespaces.isEmpty() ? List.of("") : namespaces) {
      var resources = client.genericKubernetesResources(TrafficSplits.CONTEXT);
      SharedIndexInformer<GenericKubernetesResource> informer = (namespace.isEmpty()
          ? resources.inAnyNamespace() : resources.inNamespace(namespace)).runnableInformer(0);
      informer.addEventHandler(store.handler());
      store.informers.add(informer);
      started.add(informer.start().toCompletableFuture());
    }
    try {
      CompletableFuture.allOf(started.toArray(CompletableFuture[]::new))
          .get(syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      store.close();
      throw new IOException("cannot list TrafficSplits (is the CRD installed? kubectl apply -k "
          + "k8s/): " + e.getMessage(), e);
    }
    return store;
  }

  private ResourceEventHandler<GenericKubernetesResource> handler() {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(GenericKubernetesResource resource) {
        accept(resource);
      }

      @Override
      public void onUpdate(GenericKubernetesResource old, GenericKubernetesResource resource) {
        accept(resource);
      }

      @Override
      public void onDelete(GenericKubernetesResource resource, boolean finalStateUnknown) {
        removed(TrafficSplits.key(resource));
      }
    };
  }

  private void accept(GenericKubernetesResource resource) {
    AppKey key = TrafficSplits.key(resource);
    String resourceVersion = resource.getMetadata().getResourceVersion();
    Long generation = resource.getMetadata().getGeneration();
    Validation previous = validations.get(key);
    if (previous != null && Objects.equals(previous.resourceVersion(), resourceVersion)) {
      return;
    }
    boolean changed = false;
    try {
      AppSplits next = TrafficSplits.parse(resource);
      validations.put(key, new Validation(generation, resourceVersion, Optional.empty()));
      changed = put(key, next, generation);
    } catch (InvalidSplitException e) {
      // Status writes bump the resourceVersion too: say it once per distinct error.
      boolean sameError = previous != null
          && previous.error().equals(Optional.of(e.getMessage()));
      if (!sameError) {
        log.warn("TrafficSplit {} is invalid, keeping its last good split {}: {}", key,
              splits.get(key).mesh(), e.getMessage());
      }
      validations.put(key, new Validation(generation, resourceVersion,
          Optional.of(e.getMessage())));
      if (!splits.splits().containsKey(key)) {
        // Nothing good seen yet (this replica just started): take what was last applied.
        Optional<AppSplits> applied = TrafficSplits.lastApplied(resource);
        if (applied.isPresent()) {
          changed = put(key, applied.get(),
              TrafficSplits.lastObservedGeneration(resource).orElse(null));
        }
      }
    }
    synchronized (this) {
      notifyAll();
    }
    if (changed) {
      listeners.forEach(Runnable::run);
    }
    validationListeners.forEach(Runnable::run);
  }

  /**
   * A new generation with an equal split is a change too: publishing it (an unchanged snapshot,
   * nothing sent) is what moves {@code observedGeneration} to it.
   */
  private synchronized boolean put(AppKey key, AppSplits next, Long generation) {
    if (next.equals(splits.splits().get(key))
        && Objects.equals(generation, splits.generations().get(key))) {
      return false;
    }
    Map<AppKey, AppSplits> copy = new HashMap<>(splits.splits());
    copy.put(key, next);
    Map<AppKey, Long> generations = new HashMap<>(splits.generations());
    if (generation == null) {
      generations.remove(key);
    } else {
      generations.put(key, generation);
    }
    splits = new SplitSnapshot(copy, generations);
    return true;
  }

  /** A deleted resource sets the app back to the default: all traffic to main. */
  private void removed(AppKey key) {
    validations.remove(key);
    boolean changed;
    synchronized (this) {
      changed = splits.splits().containsKey(key);
      Map<AppKey, AppSplits> copy = new HashMap<>(splits.splits());
      copy.remove(key);
      Map<AppKey, Long> generations = new HashMap<>(splits.generations());
      generations.remove(key);
      splits = new SplitSnapshot(copy, generations);
    }
    if (changed) {
      listeners.forEach(Runnable::run);
    }
    validationListeners.forEach(Runnable::run);
  }

  @Override
  public Map<AppKey, AppSplits> all() {
    return splits.splits();
  }

  @Override
  public SplitSnapshot snapshot() {
    return splits;
  }

  /**
   * Creates or updates the app's TrafficSplit (optimistic locking, retried on conflict), then
   * waits until the informer has seen the write, so a publish right after includes it.
   */
  @Override
  public void set(AppKey key, AppSplits appSplits) throws IOException {
    var resources = client.genericKubernetesResources(TrafficSplits.CONTEXT)
        .inNamespace(key.namespace());
    GenericKubernetesResource written = null;
    for (int attempt = 1; written == null; attempt++) {
      try {
        GenericKubernetesResource existing = resources.withName(key.name()).get();
        if (existing == null) {
          written = resources.resource(TrafficSplits.newResource(key, appSplits)).create();
        } else {
          existing.setAdditionalProperty("spec", TrafficSplits.spec(appSplits));
          written = resources.resource(existing).update();
        }
      } catch (KubernetesClientException e) {
        boolean raced = e.getCode() == HttpURLConnection.HTTP_CONFLICT;
        if (!raced || attempt == WRITE_ATTEMPTS) {
          throw new IOException("cannot write TrafficSplit " + key + ": " + e.getMessage(), e);
        }
      }
    }
    awaitSeen(key, written.getMetadata().getResourceVersion());
  }

  private synchronized void awaitSeen(AppKey key, String resourceVersion) throws IOException {
    long deadline = System.nanoTime() + writeTimeout.toNanos();
    while (true) {
      Validation seen = validations.get(key);
      if (seen != null && resourceVersion.equals(seen.resourceVersion())) {
        if (seen.error().isPresent()) {
          throw new IOException("TrafficSplit " + key + " was refused: " + seen.error().get());
        }
        return;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new IOException("TrafficSplit " + key + " was written (resourceVersion "
            + resourceVersion + ") but the watch did not deliver it within "
            + writeTimeout.toSeconds() + " s");
      }
      try {
        wait(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while waiting for TrafficSplit " + key, e);
      }
    }
  }

  @Override
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  /** Called when any resource was judged again (valid or not), for the status writer. */
  public void onValidation(Runnable listener) {
    validationListeners.add(listener);
  }

  public Optional<Validation> validation(AppKey key) {
    return Optional.ofNullable(validations.get(key));
  }

  /** The resources as last seen, for the status writer. */
  public List<GenericKubernetesResource> resources() {
    List<GenericKubernetesResource> all = new ArrayList<>();
    informers.forEach(informer -> all.addAll(informer.getStore().list()));
    return all;
  }

  public KubernetesClient client() {
    return client;
  }

  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }
}
