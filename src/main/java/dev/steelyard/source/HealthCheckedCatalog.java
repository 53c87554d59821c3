package dev.steelyard.source;

import dev.steelyard.loop.BackgroundLoops;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A catalog whose apps lose the endpoints that fail their health check. The source declares
 * endpoints (the apps file) and, per app, how to check them; this checks each endpoint on the
 * app's interval and serves the source's apps without the unhealthy ones, so an empty subset's
 * share goes to main as for any subset without endpoints. Apps without a health check pass
 * through unchanged. Endpoints start healthy: a restart of the control plane must not withdraw
 * every endpoint until the first round is done.
 */
public final class HealthCheckedCatalog implements AppCatalog {

  private static final Logger log = LoggerFactory.getLogger(HealthCheckedCatalog.class);

  /** What is known about one endpoint. Guarded by the catalog's lock. */
  private static final class Health {
    boolean healthy = true;
    int failedInARow;
    int passedInARow;
    String lastFailure = "";
  }

  private final AppCatalog source;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService rounds;
  private final ExecutorService checkers;
  private final EndpointChecks checks = new EndpointChecks();
  private final Map<AppKey, Map<Endpoint, Health>> health = new HashMap<>();
  private final Map<AppKey, HealthCheck> scheduledChecks = new HashMap<>();
  private final Map<AppKey, ScheduledFuture<?>> scheduledRounds = new HashMap<>();
  private volatile List<AppSpec> apps;
  private volatile boolean closed;
  /** The source's apps by key, as of the last source change. Guarded by the catalog's lock. */
  private Map<AppKey, AppSpec> sourceSpecs = Map.of();

  private HealthCheckedCatalog(AppCatalog source) {
    this.source = source;
    this.rounds = Executors.newScheduledThreadPool(1, daemon("steelyard-health-rounds"));
    this.checkers = Executors.newCachedThreadPool(daemon("steelyard-health-check"));
  }

  /** {@code source} with health checking of the apps that ask for it. */
  public static HealthCheckedCatalog wrap(AppCatalog source) {
    HealthCheckedCatalog catalog = new HealthCheckedCatalog(source);
    catalog.sourceChanged(false);
    source.onChange(() -> catalog.sourceChanged(true));
    return catalog;
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return task -> {
      Thread thread = new Thread(task, name);
      thread.setDaemon(true);
      return thread;
    };
  }

  @Override
  public List<AppSpec> apps() {
    return apps;
  }

  @Override
  public String describe() {
    return source.describe();
  }

  @Override
  public Optional<String> lastError() {
    return source.lastError();
  }

  @Override
  public Map<AppKey, HealthCheck> healthChecks() {
    return source.healthChecks();
  }

  @Override
  public synchronized List<String> notices(AppKey app) {
    List<String> notices = new ArrayList<>(source.notices(app));
    HealthCheck check = scheduledChecks.get(app);
    Map<Endpoint, Health> endpoints = health.getOrDefault(app, Map.of());
    AppSpec spec = sourceSpec(app);
    if (check == null || spec == null) {
      return notices;
    }
    for (SubsetRole role : SubsetRole.values()) {
      for (Endpoint endpoint : spec.endpoints(role)) {
        Health known = endpoints.get(endpoint);
        if (known != null && !known.healthy) {
          notices.add("health: " + role.label() + " endpoint " + endpoint + " is unhealthy ("
              + known.lastFailure + "; " + known.failedInARow + " " + check.type().name()
              .toLowerCase(java.util.Locale.ROOT) + " checks failed in a row); it gets no "
              + "traffic until it passes " + check.healthyThreshold());
        }
      }
    }
    return notices;
  }

  @Override
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  @Override
  public void registerLoops(BackgroundLoops loops) {
    source.registerLoops(loops);
    loops.register("health-check scheduler", this::stoppedRounds);
  }

  /** Why a scheduled round no longer runs, unless the catalog is closing. */
  private synchronized Optional<String> stoppedRounds() {
    if (closed) {
      return Optional.empty();
    }
    if (rounds.isShutdown()) {
      return Optional.of("its executor was shut down");
    }
    for (Map.Entry<AppKey, ScheduledFuture<?>> round : scheduledRounds.entrySet()) {
      if (round.getValue().isDone()) {
        return Optional.of("the checks of " + round.getKey() + " stopped");
      }
    }
    return Optional.empty();
  }

  /** By key: a scan of the source's apps per call made the admin API's app list quadratic. */
  private AppSpec sourceSpec(AppKey key) {
    return sourceSpecs.get(key);
  }

  /** Follows the source: new endpoints start healthy, gone ones are forgotten. */
  private void sourceChanged(boolean notify) {
    synchronized (this) {
      Map<AppKey, HealthCheck> wanted = source.healthChecks();
      Set<AppKey> present = new HashSet<>();
      Map<AppKey, AppSpec> byKey = new HashMap<>();
      source.apps().forEach(spec -> byKey.put(spec.key(), spec));
      sourceSpecs = byKey;
      for (AppSpec spec : source.apps()) {
        HealthCheck check = wanted.get(spec.key());
        if (check == null) {
          continue;
        }
        present.add(spec.key());
        Map<Endpoint, Health> known = health.computeIfAbsent(spec.key(), key -> new HashMap<>());
        Set<Endpoint> endpoints = new HashSet<>();
        for (SubsetRole role : SubsetRole.values()) {
          endpoints.addAll(spec.endpoints(role));
        }
        for (Endpoint gone : new ArrayList<>(known.keySet())) {
          if (!endpoints.contains(gone)) {
            known.remove(gone);
            checks.forget(gone);
          }
        }
        endpoints.forEach(endpoint -> known.computeIfAbsent(endpoint, e -> new Health()));
        if (!check.equals(scheduledChecks.get(spec.key()))) {
          schedule(spec.key(), check);
        }
      }
      for (AppKey key : new ArrayList<>(scheduledChecks.keySet())) {
        if (!present.contains(key)) {
          scheduledRounds.remove(key).cancel(false);
          scheduledChecks.remove(key);
          health.remove(key).keySet().forEach(checks::forget);
        }
      }
      apps = withoutUnhealthy();
    }
    if (notify) {
      listeners.forEach(Runnable::run);
    }
  }

  private void schedule(AppKey key, HealthCheck check) {
    ScheduledFuture<?> previous = scheduledRounds.remove(key);
    if (previous != null) {
      previous.cancel(false);
    }
    scheduledChecks.put(key, check);
    scheduledRounds.put(key, rounds.scheduleWithFixedDelay(
        BackgroundLoops.surviving("health checks of " + key, () -> round(key, check)),
        check.interval().toMillis(), check.interval().toMillis(), TimeUnit.MILLISECONDS));
  }

  /** Checks every endpoint of one app at once, then applies the results together. */
  private void round(AppKey key, HealthCheck check) {
    List<Endpoint> endpoints;
    synchronized (this) {
      endpoints = new ArrayList<>(health.getOrDefault(key, Map.of()).keySet());
    }
    Map<Endpoint, CompletableFuture<Optional<String>>> results = new HashMap<>();
    for (Endpoint endpoint : endpoints) {
      results.put(endpoint, CompletableFuture.supplyAsync(
          () -> checks.check(check, endpoint), checkers));
    }
    // Waited for outside the lock: notices and source changes need not wait for a round.
    Map<Endpoint, Optional<String>> failures = new HashMap<>();
    results.forEach((endpoint, result) -> failures.put(endpoint, await(result, check)));
    boolean changed = false;
    synchronized (this) {
      Map<Endpoint, Health> known = health.get(key);
      for (Map.Entry<Endpoint, Optional<String>> result : failures.entrySet()) {
        Health state = known == null ? null : known.get(result.getKey());
        if (state != null) {
          changed |= apply(key, result.getKey(), state, result.getValue(), check);
        }
      }
      if (changed) {
        apps = withoutUnhealthy();
      }
    }
    if (changed) {
      listeners.forEach(Runnable::run);
    }
  }

  private static Optional<String> await(CompletableFuture<Optional<String>> result,
      HealthCheck check) {
    try {
      // Each check has its own timeout; the slack covers a check that ignores it.
      return result.get(check.timeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      return Optional.of("no result within " + check.timeout().toMillis() + " ms");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted");
    } catch (java.util.concurrent.ExecutionException e) {
      return Optional.of(String.valueOf(e.getCause()));
    }
  }

  /** Counts one result; true when the endpoint changed between healthy and unhealthy. */
  private static boolean apply(AppKey key, Endpoint endpoint, Health state,
      Optional<String> failure, HealthCheck check) {
    if (failure.isPresent()) {
      state.failedInARow++;
      state.passedInARow = 0;
      state.lastFailure = failure.get();
      if (state.healthy && state.failedInARow >= check.unhealthyThreshold()) {
        state.healthy = false;
        log.warn("{} endpoint {} is unhealthy ({}, {} checks failed in a row); it leaves its "
            + "subset", key, endpoint, state.lastFailure, state.failedInARow);
        return true;
      }
      return false;
    }
    state.passedInARow++;
    state.failedInARow = 0;
    if (!state.healthy && state.passedInARow >= check.healthyThreshold()) {
      state.healthy = true;
      log.info("{} endpoint {} is healthy again; it rejoins its subset", key, endpoint);
      return true;
    }
    return false;
  }

  private List<AppSpec> withoutUnhealthy() {
    List<AppSpec> filtered = new ArrayList<>();
    for (AppSpec spec : source.apps()) {
      Map<Endpoint, Health> known = health.get(spec.key());
      if (known == null) {
        filtered.add(spec);
        continue;
      }
      Map<SubsetRole, List<Endpoint>> endpoints = new EnumMap<>(SubsetRole.class);
      for (SubsetRole role : SubsetRole.values()) {
        endpoints.put(role, spec.endpoints(role).stream()
            .filter(endpoint -> known.getOrDefault(endpoint, new Health()).healthy).toList());
      }
      filtered.add(new AppSpec(spec.key(), spec.port(), spec.protocol(), spec.gatewayHosts(),
          endpoints));
    }
    return List.copyOf(filtered);
  }

  @Override
  public void close() {
    closed = true;
    rounds.shutdownNow();
    checkers.shutdownNow();
    checks.close();
    source.close();
  }
}
