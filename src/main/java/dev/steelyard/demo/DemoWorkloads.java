package dev.steelyard.demo;

import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.FlowException;
import dev.steelyard.rollout.FlowMachine;
import dev.steelyard.rollout.RoleStatus;
import dev.steelyard.rollout.RoleTarget;
import dev.steelyard.rollout.WorkloadDriver;
import dev.steelyard.source.AppCatalog;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The demo's workloads: local {@link RoleBackend}s per app and role, and the app catalog that
 * lists them, in one. It starts with a backend on every loopback endpoint of the given apps
 * (version {@value #INITIAL_VERSION}); the rollout engine then resizes roles and changes their
 * version through {@link #apply}, which starts backends on free loopback ports and updates the
 * catalog. A backend taken out of the catalog keeps answering for {@link #DRAIN_MILLIS} ms, so
 * requests already routed to it still land.
 */
public final class DemoWorkloads implements WorkloadDriver, AppCatalog {

  public static final String INITIAL_VERSION = "v1";
  static final long DRAIN_MILLIS = 3_000;
  private static final Logger log = LoggerFactory.getLogger(DemoWorkloads.class);

  private record Running(String version, List<RoleBackend> backends) {}

  private final Map<AppKey, AppSpec> declared = new HashMap<>();
  private final Map<AppKey, Map<SubsetRole, Running>> running = new HashMap<>();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService drainer = Executors.newSingleThreadScheduledExecutor(
      runnable -> {
        Thread thread = new Thread(runnable, "steelyard-demo-drain");
        thread.setDaemon(true);
        return thread;
      });
  private final String description;
  private final Map<String, RoleBackend.Faults> faults;
  private volatile List<AppSpec> apps;

  private DemoWorkloads(String description, Map<String, RoleBackend.Faults> faults) {
    this.description = description;
    this.faults = Map.copyOf(faults);
  }

  /** Starts a backend on every loopback endpoint of {@code apps}. */
  public static DemoWorkloads start(List<AppSpec> apps, String description) throws IOException {
    return start(apps, description, Map.of());
  }

  /**
   * As {@link #start(List, String)}; every backend of a version in {@code faults} (a flow's new
   * version, or {@value #INITIAL_VERSION}) misbehaves as that says, so that a judgment has
   * something to catch.
   */
  public static DemoWorkloads start(List<AppSpec> apps, String description,
      Map<String, RoleBackend.Faults> faults) throws IOException {
    DemoWorkloads workloads = new DemoWorkloads(description, faults);
    try {
      for (AppSpec app : apps) {
        workloads.declared.put(app.key(), app);
        Map<SubsetRole, Running> roles = new EnumMap<>(SubsetRole.class);
        for (SubsetRole role : SubsetRole.values()) {
          List<RoleBackend> backends = new ArrayList<>();
          for (Endpoint endpoint : app.endpoints(role)) {
            if (endpoint.ip().startsWith("127.")) {
              backends.add(RoleBackend.start(app.key().name(), role, INITIAL_VERSION,
                  endpoint.ip(), endpoint.port(), workloads.faults(INITIAL_VERSION)));
            }
          }
          roles.put(role, new Running(INITIAL_VERSION, backends));
        }
        workloads.running.put(app.key(), roles);
      }
    } catch (IOException e) {
      workloads.close();
      throw new IOException("cannot start demo backends: " + e.getMessage(), e);
    }
    workloads.apps = workloads.compose();
    return workloads;
  }

  private RoleBackend.Faults faults(String version) {
    return faults.getOrDefault(version, RoleBackend.Faults.NONE);
  }

  public synchronized int size() {
    return running.values().stream().flatMap(roles -> roles.values().stream())
        .mapToInt(r -> r.backends().size()).sum();
  }

  // ---------------------------------------------------------------------------------------
  // WorkloadDriver

  @Override
  public synchronized FlowMachine.MainWorkload main(AppKey app) throws FlowException {
    Map<SubsetRole, Running> roles = running.get(app);
    if (roles == null) {
      throw new FlowException(404, "the demo runs no backends for " + app);
    }
    Running main = roles.get(SubsetRole.MAIN);
    return new FlowMachine.MainWorkload(main.version(), main.backends().size());
  }

  @Override
  public void apply(Flow flow, SubsetRole role, RoleTarget target) throws IOException {
    List<RoleBackend> retired;
    synchronized (this) {
      Map<SubsetRole, Running> roles = running.get(flow.app());
      if (roles == null) {
        throw new IOException("the demo runs no backends for " + flow.app());
      }
      Running now = roles.getOrDefault(role, new Running("", List.of()));
      List<RoleBackend> keep = new ArrayList<>();
      retired = new ArrayList<>();
      if (now.version().equals(target.version())) {
        keep.addAll(now.backends().subList(0, Math.min(target.replicas(), now.backends().size())));
        retired.addAll(now.backends().subList(keep.size(), now.backends().size()));
      } else {
        retired.addAll(now.backends());
      }
      // New backends start before old ones leave the catalog (make before break).
      while (keep.size() < target.replicas()) {
        keep.add(RoleBackend.start(flow.app().name(), role, target.version(), "127.0.0.1", 0,
            faults(target.version())));
      }
      roles.put(role, new Running(target.version(), List.copyOf(keep)));
      apps = compose();
      log.info("demo: {} {} now {} backend(s) at {} (ports {})", flow.app(), role.label(),
          keep.size(), target.version(), keep.stream().map(RoleBackend::port).toList());
    }
    listeners.forEach(Runnable::run);
    if (!retired.isEmpty()) {
      drainer.schedule(() -> retired.forEach(RoleBackend::close), DRAIN_MILLIS,
          TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public synchronized RoleStatus status(AppKey app, SubsetRole role) {
    Map<SubsetRole, Running> roles = running.get(app);
    Running now = roles == null ? null : roles.get(role);
    if (now == null) {
      return RoleStatus.ABSENT;
    }
    // A started backend listens before start() returns: every one is ready.
    return new RoleStatus(now.version(), now.backends().size(), now.backends().size());
  }

  /** For the catalog and the driver alike: where apps and workloads come from. */
  @Override
  public String describe() {
    return description;
  }

  // ---------------------------------------------------------------------------------------
  // AppCatalog

  private List<AppSpec> compose() {
    List<AppSpec> specs = new ArrayList<>();
    for (AppSpec app : declared.values()) {
      Map<SubsetRole, List<Endpoint>> endpoints = new EnumMap<>(SubsetRole.class);
      Map<SubsetRole, Running> roles = running.get(app.key());
      for (SubsetRole role : SubsetRole.values()) {
        Running now = roles.get(role);
        endpoints.put(role, now == null ? List.of() : now.backends().stream()
            .map(backend -> new Endpoint("127.0.0.1", backend.port())).toList());
      }
      specs.add(new AppSpec(app.key(), app.port(), app.protocol(), app.gatewayHosts(),
          endpoints));
    }
    specs.sort(java.util.Comparator.comparing(AppSpec::key));
    return List.copyOf(specs);
  }

  @Override
  public List<AppSpec> apps() {
    return apps;
  }

  @Override
  public Optional<String> lastError() {
    return Optional.empty();
  }

  @Override
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  @Override
  public synchronized void close() {
    drainer.shutdownNow();
    running.values().forEach(roles -> roles.values()
        .forEach(r -> r.backends().forEach(RoleBackend::close)));
    running.clear();
  }
}
