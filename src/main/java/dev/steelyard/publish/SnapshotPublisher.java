package dev.steelyard.publish;

import dev.steelyard.source.AppCatalog;
import dev.steelyard.split.SplitSnapshot;
import dev.steelyard.split.SplitStore;
import dev.steelyard.translate.AppResources;
import dev.steelyard.translate.MeshTranslator;
import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyScope;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.ProxyResources;
import dev.steelyard.translate.ResourceValidator;
import dev.steelyard.translate.TranslationCache;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.MeshView;
import dev.steelyard.xds.IndexedCache;
import dev.steelyard.xds.NamedVersionSnapshot;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that builds and sets snapshots. Changes only ask for a publish. A change after
 * a quiet {@code holdoff} is published at once; changes that follow a publish closely wait until
 * requests stop for {@code holdoff} (or {@code maxHoldoff} passed since the first). Then the
 * thread composes the view, translates the apps that changed ({@link TranslationCache}),
 * assembles and validates the resources per proxy group (kind, and sidecar scope), and sets the
 * snapshots whose content changed, in the make-before-break stages of {@link MakeBeforeBreak}: between two
 * stages it waits until the proxies applied the first, at most {@link #STAGE_TIMEOUT} (a weight
 * change is one stage and does not wait). Nothing else calls {@code setSnapshot}, and
 * java-control-plane runs its pushes on this thread.
 */
public final class SnapshotPublisher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SnapshotPublisher.class);

  private record Waiter(long ticket, CompletableFuture<PublishedState> future) {}

  /** The longest the publisher waits for proxies to apply one make-before-break stage. */
  static final Duration STAGE_TIMEOUT = Duration.ofSeconds(5);

  private final AppCatalog catalog;
  private final SplitStore splits;
  private final IndexedCache cache;
  private final TranslatorSettings settings;
  private final Duration holdoff;
  private final Duration maxHoldoff;
  private final Timer buildTimer;
  private final Counter refused;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition requestedChanged = lock.newCondition();
  private final List<Waiter> waiters = new ArrayList<>();
  private final List<Consumer<PublishedState>> publishedListeners = new CopyOnWriteArrayList<>();
  private long requested;
  private long handled;
  /** When the last publish ended; read and written by the publisher thread only. */
  private long lastPublishEnded = Long.MIN_VALUE / 2;
  private volatile PublishedState current;
  private volatile boolean running = true;
  private volatile AppliedCheck appliedCheck = AppliedCheck.NONE;
  /** What each group is served now, the start of the next make-before-break; publisher only. */
  private final Map<ProxyGroup, ProxyResources> served = new HashMap<>();
  /**
   * The versions the cache holds per group; publisher only. Not {@code current}'s: a publish
   * that fails between two stages leaves the cache at a stage {@code current} never described.
   */
  private final Map<ProxyGroup, KindVersions> inCache = new HashMap<>();
  /** The app pieces each scoped group's served resources were assembled from; publisher only. */
  private final Map<ProxyGroup, List<AppResources>> scopedInputs = new HashMap<>();
  /** Unchanged apps' translations, reused by the next build; publisher only. */
  private final TranslationCache translations = new TranslationCache();
  /** The last build's, to log an app's notice once. */
  private Map<AppKey, String> invalidApps = Map.of();
  private final Thread thread;

  public SnapshotPublisher(AppCatalog catalog, SplitStore splits, IndexedCache cache,
      TranslatorSettings settings, Duration holdoff,
      Duration maxHoldoff, MeterRegistry meters) {
    this.catalog = catalog;
    this.splits = splits;
    this.cache = cache;
    this.settings = settings;
    this.holdoff = holdoff;
    this.maxHoldoff = maxHoldoff;
    this.buildTimer = Timer.builder("steelyard_snapshot_build").register(meters);
    this.refused = Counter.builder("steelyard_snapshot_refused_total").register(meters);
    this.current = new PublishedState(0, MeshView.EMPTY, SplitSnapshot.EMPTY, Map.of(), Map.of(),
        Instant.EPOCH, Optional.empty());
    // A sidecar with a scope not seen before waits for its group's first snapshot.
    cache.onNewGroup(this::requestPublish);
    this.thread = new Thread(this::loop, "steelyard-publisher");
    this.thread.setDaemon(true);
  }

  /**
   * Lets the publisher wait for the proxies between the stages of a make-before-break change
   * ({@link MakeBeforeBreak}); without it, the stages go out back to back.
   */
  public void waitForProxiesWith(AppliedCheck check) {
    this.appliedCheck = check;
  }

  /** Publishes the first snapshot before returning, then starts the publisher thread. */
  public void start() {
    long ticket = requestPublish();
    publish(ticket);
    lock.lock();
    try {
      handled = ticket;
    } finally {
      lock.unlock();
    }
    notifyPublished();
    thread.start();
  }

  /**
   * Calls {@code listener} on the publisher thread after every publish attempt (also one that
   * was refused or changed nothing). Listeners must return quickly: hand work to another thread.
   */
  public void onPublished(Consumer<PublishedState> listener) {
    publishedListeners.add(listener);
  }

  private void notifyPublished() {
    PublishedState state = current;
    for (Consumer<PublishedState> listener : publishedListeners) {
      try {
        listener.accept(state);
      } catch (RuntimeException | Error e) {
        log.error("a publish listener failed", e);
      }
    }
  }

  /** Asks for a publish; returns a ticket to pass to {@link #whenPublished}. */
  public long requestPublish() {
    lock.lock();
    try {
      requested++;
      requestedChanged.signalAll();
      return requested;
    } finally {
      lock.unlock();
    }
  }

  /** Completes once a snapshot that includes every change made before the ticket is set. */
  public CompletableFuture<PublishedState> whenPublished(long ticket) {
    lock.lock();
    try {
      if (ticket <= handled) {
        return CompletableFuture.completedFuture(current);
      }
      CompletableFuture<PublishedState> future = new CompletableFuture<>();
      waiters.add(new Waiter(ticket, future));
      return future;
    } finally {
      lock.unlock();
    }
  }

  public PublishedState current() {
    return current;
  }

  /**
   * Runs until {@link #close}. Nothing a publish throws ends it, errors such as
   * OutOfMemoryError included: a publisher thread that died would leave the proxies on the last
   * snapshot while the admin API kept taking changes. If it ends anyway, {@link #stopped} says so.
   */
  private void loop() {
    while (running) {
      try {
        publishOnce();
      } catch (InterruptedException e) {
        if (!running) {
          return;
        }
        log.warn("the publisher was interrupted while not closed; it keeps running");
      } catch (Throwable e) {
        try {
          log.error("the publisher loop failed; it keeps running", e);
        } catch (Throwable ignored) {
          // Out of memory even for the log line: go on regardless.
        }
      }
    }
  }

  /** Why the publisher thread no longer runs although the publisher was not closed. */
  public Optional<String> stopped() {
    return running && thread.getState() == Thread.State.TERMINATED
        ? Optional.of("its thread " + thread.getName() + " ended")
        : Optional.empty();
  }

  private void publishOnce() throws InterruptedException {
    long target = awaitQuietRequests();
    try {
      publish(target);
    } catch (RuntimeException | Error e) {
      log.error("publishing failed; the previous snapshot stays", e);
      keepPrevious("publishing failed: " + e);
    }
    lastPublishEnded = System.nanoTime();
    List<Waiter> done = new ArrayList<>();
    lock.lock();
    try {
      handled = target;
      waiters.removeIf(waiter -> waiter.ticket() <= target && done.add(waiter));
    } finally {
      lock.unlock();
    }
    done.forEach(waiter -> waiter.future().complete(current));
    notifyPublished();
  }

  /** Blocks until there is work, then debounces; returns the newest ticket to cover. */
  private long awaitQuietRequests() throws InterruptedException {
    long seen;
    lock.lock();
    try {
      while (requested == handled) {
        requestedChanged.await();
      }
      seen = requested;
    } finally {
      lock.unlock();
    }
    // Leading edge: after a quiet holdoff, a lone change (an operator's weight step) is
    // published at once; only changes that follow a publish closely are held back and merged.
    if (System.nanoTime() - lastPublishEnded >= holdoff.toNanos()) {
      return seen;
    }
    long deadline = System.nanoTime() + maxHoldoff.toNanos();
    while (true) {
      long wait = Math.min(holdoff.toNanos(), deadline - System.nanoTime());
      if (wait <= 0) {
        break;
      }
      Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      lock.lock();
      try {
        if (requested == seen) {
          break;
        }
        seen = requested;
      } finally {
        lock.unlock();
      }
    }
    return seen;
  }

  private void publish(long generation) {
    long start = System.nanoTime();
    SplitSnapshot composedFrom = splits.snapshot();
    MeshBuild build = MeshBuild.of(catalog.apps(), composedFrom.splits(), settings,
        translations);
    MeshView view = build.view();
    build.invalidApps().forEach((app, notice) -> {
      if (!notice.equals(invalidApps.get(app))) {
        log.error("{}: {}", app, notice);
      }
    });
    invalidApps = build.invalidApps();
    if (!build.valid()) {
      refused.increment();
      String error = String.join("\n", build.errors());
      log.error("refusing to publish generation {}: {}", generation, error);
      keepPrevious("refused, proxies keep the previous configuration: " + error);
      return;
    }
    Map<ProxyGroup, ProxyResources> targets = new LinkedHashMap<>();
    for (ProxyKind kind : ProxyKind.values()) {
      targets.put(ProxyGroup.all(kind), build.resources().get(kind));
    }
    // A scoped group none of whose apps changed keeps what it has: a weight step of one app
    // costs the scopes that call it, not every scope.
    Map<ProxyGroup, List<AppResources>> scopedBuiltFrom = new HashMap<>();
    for (ProxyGroup group : cache.scopedGroups()) {
      List<AppResources> apps = build.appsIn(group.scope());
      if (served.containsKey(group) && sameInstances(apps, scopedInputs.get(group))) {
        continue;
      }
      scopedBuiltFrom.put(group, apps);
      targets.put(group, MeshTranslator.assemble(apps, ProxyKind.SIDECAR, settings,
          ProxyScope.ALL));
    }
    Map<ProxyGroup, List<ProxyResources>> stages = stages(targets);
    int stageCount = stages.values().stream().mapToInt(List::size).max().orElse(1);
    Map<ProxyKind, KindVersions> versions = new EnumMap<>(ProxyKind.class);
    Map<ProxyGroup, NamedVersionSnapshot> snapshots = new HashMap<>(current.snapshots());
    versions.putAll(current.versions());
    for (int stage = 0; stage < stageCount; stage++) {
      Map<ProxyGroup, NamedVersionSnapshot> set = new HashMap<>();
      for (Map.Entry<ProxyGroup, List<ProxyResources>> entry : stages.entrySet()) {
        ProxyGroup group = entry.getKey();
        if (stage >= entry.getValue().size()) {
          continue;
        }
        ProxyResources built = entry.getValue().get(stage);
        NamedVersionSnapshot snapshot =
            NamedVersionSnapshot.next(snapshots.get(group), built);
        KindVersions next = KindVersions.of(snapshot);
        served.put(group, built);
        if (!group.scoped()) {
          versions.put(group.kind(), next);
        }
        if (next.equals(inCache.get(group))) {
          continue;
        }
        inCache.put(group, next);
        snapshots.put(group, snapshot);
        cache.setSnapshot(group, snapshot);
        set.put(group, snapshot);
      }
      if (stage < stageCount - 1) {
        awaitApplied(generation, stage, set);
      }
    }
    scopedInputs.putAll(scopedBuiltFrom);
    current = new PublishedState(generation, view, composedFrom,
        Collections.unmodifiableMap(versions), Collections.unmodifiableMap(snapshots),
        Instant.now(), Optional.empty());
    buildTimer.record(Duration.ofNanos(System.nanoTime() - start));
    log.debug("published generation {} with {} app(s)", generation, view.apps().size());
  }

  private static boolean sameInstances(List<AppResources> now, List<AppResources> before) {
    if (before == null || before.size() != now.size()) {
      return false;
    }
    for (int i = 0; i < now.size(); i++) {
      if (now.get(i) != before.get(i)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Per group, the make-before-break stages from what it is served to {@code targets}. The
   * first publish has nothing to keep alive and goes out whole; so does a group whose
   * intermediate stage would not validate (it cannot happen by construction: the stages only
   * hold resources of valid snapshots, each referring to what it referred to before).
   */
  private Map<ProxyGroup, List<ProxyResources>> stages(Map<ProxyGroup, ProxyResources> targets) {
    Map<ProxyGroup, List<ProxyResources>> stages = new LinkedHashMap<>();
    for (Map.Entry<ProxyGroup, ProxyResources> entry : targets.entrySet()) {
      ProxyGroup group = entry.getKey();
      ProxyResources before = served.get(group);
      List<ProxyResources> planned = before == null ? List.of(entry.getValue())
          : MakeBeforeBreak.stages(before, entry.getValue());
      for (ProxyResources stage : planned.subList(0, planned.size() - 1)) {
        List<String> errors = ResourceValidator.validate(group.kind(), stage);
        if (!errors.isEmpty()) {
          log.error("make-before-break stage for {} is invalid, publishing at once: {}",
              group.label(), errors);
          planned = List.of(entry.getValue());
          break;
        }
      }
      stages.put(group, planned);
    }
    return stages;
  }

  /**
   * Waits until the connected proxies have applied a stage, at most {@link #STAGE_TIMEOUT}: a
   * proxy that is stuck or gone must not hold every other change back.
   */
  private void awaitApplied(long generation, int stage,
      Map<ProxyGroup, NamedVersionSnapshot> set) {
    long deadline = System.nanoTime() + STAGE_TIMEOUT.toNanos();
    Map<ProxyGroup, List<String>> lagging = new HashMap<>();
    while (true) {
      lagging.clear();
      set.forEach((group, snapshot) -> {
        List<String> behind = appliedCheck.lagging(group, snapshot);
        if (!behind.isEmpty()) {
          lagging.put(group, behind);
        }
      });
      if (lagging.isEmpty() || !running) {
        return;
      }
      if (System.nanoTime() > deadline) {
        log.warn("generation {}: stage {} not applied by {} after {}; going on", generation,
            stage + 1, lagging, STAGE_TIMEOUT);
        return;
      }
      try {
        // Proxies ACK within milliseconds; later polls back off, as each one checks every
        // connected proxy of the group.
        long waited = STAGE_TIMEOUT.toNanos() - (deadline - System.nanoTime());
        Thread.sleep(waited < 50_000_000 ? 2 : 20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private void keepPrevious(String error) {
    PublishedState previous = current;
    current = new PublishedState(previous.generation(), previous.view(), previous.splits(),
        previous.versions(), previous.snapshots(), previous.at(), Optional.of(error));
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
