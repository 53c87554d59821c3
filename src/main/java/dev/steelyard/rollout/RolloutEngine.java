package dev.steelyard.rollout;

import dev.steelyard.feedback.ProxyRegistry;
import dev.steelyard.publish.PublishedState;
import dev.steelyard.publish.SnapshotPublisher;
import dev.steelyard.source.AppCatalog;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.split.SplitStore;
import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import dev.steelyard.xds.NamedVersionSnapshot;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives flows: one thread ticks every active flow (observe the workloads and the proxies, ask
 * the judge, let {@link FlowMachine} decide, persist, then act). It writes splits only through
 * the split store, reads ACKs from the proxy registry and never touches snapshots; workloads
 * change only through the {@link WorkloadDriver}. Commands (start, approve, rollback, ...) run
 * on the caller's thread under the same lock and persist before they return; a command that
 * changes an active flow acts at once (start acts on the next tick), and what follows is seen
 * on the ticks after it.
 *
 * <p>Every changed flow is written to the {@link FlowStore} before the engine acts on it, so a
 * restart finds the flow where it was and acts again (drivers are idempotent). A step's
 * analysis window keeps its start time across a restart: the time the control plane was down
 * counts as part of the window (a pause judge may continue right after the restart; a manual
 * approval given before it is kept).
 */
public final class RolloutEngine implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RolloutEngine.class);

  private final AppCatalog catalog;
  private final SplitStore splits;
  private final SnapshotPublisher publisher;
  private final ProxyRegistry proxies;
  private final WorkloadDriver driver;
  private final FlowStore store;
  private final Map<String, Judge> judges;
  private final Clock clock;
  private final Duration tick;
  private final List<Flow> flows = new ArrayList<>();
  /** What was applied through the driver per app, so a target is applied once per change. */
  private final Map<AppKey, Map<SubsetRole, RoleTarget>> applied = new HashMap<>();
  /** The split last written per app: a forced split is not overwritten until the flow moves. */
  private final Map<AppKey, SplitPolicy> written = new HashMap<>();
  private final Map<String, Instant> stepStarted = new HashMap<>();
  private final Map<AppKey, String> driverErrors = new HashMap<>();
  /** Apps whose last split write failed: retried durable first, so proxies do not flap. */
  private final Set<AppKey> splitWriteFailed = new HashSet<>();
  private final Timer stepDurations;
  private final Timer ackLatency;
  private final Counter rollbacks;
  private final ScheduledExecutorService loop;
  private volatile boolean leading;
  private volatile String leader = "";
  private volatile HistoryListener historyListener = HistoryListener.NONE;

  public RolloutEngine(AppCatalog catalog, SplitStore splits, SnapshotPublisher publisher,
      ProxyRegistry proxies, WorkloadDriver driver, FlowStore store, MeterRegistry meters,
      Clock clock, Duration tick, boolean leading) throws IOException {
    this.leading = leading;
    this.catalog = catalog;
    this.splits = splits;
    this.publisher = publisher;
    this.proxies = proxies;
    this.driver = driver;
    this.store = store;
    this.judges = new java.util.concurrent.ConcurrentHashMap<>(Map.of("manual", Judge.MANUAL,
        "pause", Judge.PAUSE));
    this.clock = clock;
    this.tick = tick;
    flows.addAll(store.load());
    for (Phase phase : Phase.values()) {
      Gauge.builder("steelyard_rollout_flows", this, engine -> engine.count(phase))
          .tag("phase", phase.label())
          .description("Flows by phase (ended ones as long as their history is kept)")
          .register(meters);
    }
    stepDurations = Timer.builder("steelyard_rollout_step_duration")
        .description("From a deploy step's sizing to its verdict").register(meters);
    ackLatency = Timer.builder("steelyard_rollout_ack_latency")
        .description("From a weight set by a flow to the last connected proxy's ACK")
        .register(meters);
    rollbacks = Counter.builder("steelyard_rollout_rollbacks").register(meters);
    loop = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "steelyard-rollout");
      thread.setDaemon(true);
      return thread;
    });
    long active = flows.stream().filter(Flow::active).count();
    if (active > 0) {
      log.info("resuming {} flow(s) from {}", active, store.describe());
    }
  }

  /** Adds a judge flows can name as their judgment type (the automatic one); before start. */
  public RolloutEngine withJudge(String type, Judge judge) {
    judges.put(type, judge);
    return this;
  }

  public void start() {
    loop.scheduleWithFixedDelay(this::tickSafely, 0, tick.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Whether this replica drives flows (leader election). A follower does not tick and refuses
   * commands (503, naming the leader); on becoming leader the engine reads the flows again
   * from the store, which replicas share (the cluster's CanaryRollouts, or a shared data
   * directory), and applies their targets once more.
   */
  public synchronized void setLeading(boolean leading) {
    if (leading && !this.leading) {
      try {
        flows.clear();
        flows.addAll(store.load());
        applied.clear();
        written.clear();
        log.info("leading rollout flows now: {} active flow(s) from {}",
            flows.stream().filter(Flow::active).count(), store.describe());
      } catch (IOException e) {
        log.error("cannot read flows from {}; not leading", store.describe(), e);
        return;
      }
      loop.execute(this::tickSafely);
    } else if (!leading && this.leading) {
      log.info("no longer leading rollout flows (leader: {})", leader);
    }
    this.leading = leading;
  }

  /** The replica that drives flows, as the leader election reports it. */
  public void setLeader(String leader) {
    this.leader = leader == null ? "" : leader;
  }

  public boolean leading() {
    return leading;
  }

  /** Hears every history entry once it is persisted (Kubernetes Events in a cluster). */
  public RolloutEngine withHistoryListener(HistoryListener listener) {
    this.historyListener = listener;
    return this;
  }

  private void requireLeading() throws FlowException {
    if (!leading) {
      throw new FlowException(503, "this replica does not drive rollout flows; "
          + (leader.isEmpty() ? "no leader is elected yet" : "the leader is " + leader));
    }
  }

  /** A follower's view: the store as the leader last wrote it. */
  private void refreshIfFollowing() {
    if (!leading) {
      try {
        List<Flow> stored = store.load();
        flows.clear();
        flows.addAll(stored);
      } catch (IOException e) {
        log.warn("cannot read flows from {}: {}", store.describe(), e.getMessage());
      }
    }
  }

  public String driverDescription() {
    return driver.describe();
  }

  // ---------------------------------------------------------------------------------------
  // Commands

  public synchronized Flow start(AppKey app, FlowRequest request, String by)
      throws FlowException, IOException {
    requireLeading();
    if (catalog.apps().stream().noneMatch(spec -> spec.key().equals(app))) {
      throw new FlowException(404, "unknown app " + app);
    }
    Optional<Flow> running = active(app);
    if (running.isPresent()) {
      throw FlowException.conflict("a " + running.get().kind().label() + " flow ("
          + running.get().id() + ") already owns " + app + "; one flow per app at a time");
    }
    if (request.judgment() != null && "automatic".equals(request.judgment().type())) {
      Judge judge = judges.get("automatic");
      if (judge == null) {
        throw new FlowException(501, "automatic judgment is not available on this server");
      }
      String problem = judge.problem(request.judgment());
      if (problem != null) {
        throw FlowException.badRequest(problem);
      }
    }
    Flow flow = FlowMachine.start(UUID.randomUUID().toString().substring(0, 8), app, request,
        driver.main(app), splits.get(app).mesh(), by, clock.instant());
    persist(null, flow);
    stepStarted.put(flow.id(), flow.startedAt());
    log.info("flow {} started for {} by {}: {}", flow.id(), app, by,
        flow.history().get(0).detail());
    loop.execute(this::tickSafely);
    return flow;
  }

  public Flow approve(AppKey app, String by) throws FlowException, IOException {
    return command(app, flow -> FlowMachine.approve(flow, by, clock.instant()));
  }

  public Flow rollback(AppKey app, String by) throws FlowException, IOException {
    return command(app, flow -> FlowMachine.rollback(flow, by, clock.instant()));
  }

  public Flow abort(AppKey app, String by) throws FlowException, IOException {
    return command(app, flow -> FlowMachine.abort(flow, by, clock.instant()));
  }

  public Flow setWeight(AppKey app, double percent, String by)
      throws FlowException, IOException {
    return command(app, flow -> FlowMachine.setWeight(flow, percent, by, clock.instant()));
  }

  public Flow endTest(AppKey app, String by) throws FlowException, IOException {
    return command(app, flow -> FlowMachine.end(flow, by, clock.instant()));
  }

  /** Records a split forced over a flow's head (PUT .../split?force=true). */
  public synchronized void recordForcedSplit(AppKey app, String split, String by) {
    Optional<Flow> flow = active(app);
    if (flow.isPresent()) {
      try {
        persist(flow.get(), FlowMachine.forcedSplit(flow.get(), split, by, clock.instant()));
      } catch (IOException e) {
        log.error("cannot record the forced split of {} in its flow", app, e);
      }
    }
  }

  private interface Command {
    Flow apply(Flow flow) throws FlowException;
  }

  private synchronized Flow command(AppKey app, Command command)
      throws FlowException, IOException {
    requireLeading();
    Flow flow = active(app).orElseThrow(() -> new FlowException(404, "no flow is running for " + app));
    Flow next = command.apply(flow);
    if (next != flow) {
      persist(flow, next);
      // Act at once rather than on the loop's next tick: a rollback's first push (the canary's
      // share back to the old version) must not wait behind a tick that observes every flow.
      // What follows (the ACKs it waits for) is seen on the loop's next tick; one run now would
      // find nothing published yet and only take CPU from the push.
      if (next.active()) {
        act(next);
      }
    }
    return next;
  }

  // ---------------------------------------------------------------------------------------
  // Reads

  /** The running flow of {@code app}, if any. */
  public synchronized Optional<Flow> active(AppKey app) {
    refreshIfFollowing();
    return flows.stream().filter(flow -> flow.app().equals(app) && flow.active()).findFirst();
  }

  /** The newest flow of {@code app}, running or ended. */
  public synchronized Optional<Flow> latest(AppKey app) {
    refreshIfFollowing();
    Flow found = null;
    for (Flow flow : flows) {
      if (flow.app().equals(app)) {
        found = flow;
      }
    }
    return Optional.ofNullable(found);
  }

  /** Every kept flow of {@code app}, oldest first. */
  public synchronized List<Flow> flows(AppKey app) {
    refreshIfFollowing();
    return flows.stream().filter(flow -> flow.app().equals(app)).toList();
  }

  /** Every history entry of every kept flow of {@code app}, oldest first. */
  public synchronized List<HistoryEntry> history(AppKey app) {
    refreshIfFollowing();
    List<HistoryEntry> entries = new ArrayList<>();
    flows.stream().filter(flow -> flow.app().equals(app))
        .forEach(flow -> entries.addAll(flow.history()));
    return entries;
  }

  /** Why a plain split change of {@code app} is refused: the flow that owns it. */
  public Optional<String> owner(AppKey app) {
    return active(app).map(flow -> "a canary " + flow.kind().label() + " flow (" + flow.id()
        + ", " + flow.oldVersion() + " -> " + flow.newVersion() + ", " + flow.phase().label()
        + ") owns the split of " + app + "; use steelyard rollout (or canary-test) commands, "
        + "or PUT with ?force=true to override (recorded in the flow's history)");
  }

  /** What the engine sees for {@code flow} now: the same observation a tick would use. */
  public synchronized Observation observe(Flow flow) {
    Map<SubsetRole, RoleStatus> roles = new EnumMap<>(SubsetRole.class);
    for (SubsetRole role : SubsetRole.values()) {
      roles.put(role, driver.status(flow.app(), role));
    }
    PublishedState published = publisher.current();
    AppSplits want = new AppSplits(flow.split(), Optional.empty());
    boolean publishedWanted = published.splits().get(flow.app()).equals(want);
    List<String> lagging = new ArrayList<>();
    // Gateways route to an app only through its gateway hosts: without any, a gateway's ACKs
    // say nothing about this app's split, and one lagging gateway must not hold the flow.
    boolean viaGateway = publishedWanted && catalog.apps().stream().anyMatch(
        spec -> spec.key().equals(flow.app()) && !spec.gatewayHosts().isEmpty());
    // Until the split is published, who lags behind the snapshot before it says nothing.
    Map<ProxyGroup, NamedVersionSnapshot> behind = publishedWanted ? published.snapshots()
        : Map.of();
    for (Map.Entry<ProxyGroup, NamedVersionSnapshot> entry : behind.entrySet()) {
      ProxyGroup group = entry.getKey();
      // Nor do a scoped sidecar's that does not call the app.
      if ((group.kind() == ProxyKind.GATEWAY && !viaGateway)
          || !group.scope().includes(flow.app())) {
        continue;
      }
      for (String node : proxies.lagging(group, entry.getValue())) {
        lagging.add(group.kind().label() + " " + node);
      }
    }
    List<String> acks = new ArrayList<>();
    proxies.routesProgress(published.snapshots()).forEach((kind, progress) -> acks.add(
        kind.label() + " "
        + (publishedWanted ? progress.applied() : 0) + "/" + progress.connected()));
    if (!publishedWanted) {
      lagging.add(0, "(not published yet)");
    }
    return new Observation(roles, publishedWanted && lagging.isEmpty(), lagging,
        acks.isEmpty() ? "no proxies connected" : String.join(", ", acks));
  }

  public synchronized Optional<String> driverError(AppKey app) {
    return Optional.ofNullable(driverErrors.get(app));
  }

  // ---------------------------------------------------------------------------------------
  // The loop

  private void tickSafely() {
    try {
      tick();
    } catch (RuntimeException e) {
      log.error("rollout tick failed", e);
    }
  }

  synchronized void tick() {
    if (!leading) {
      return;
    }
    for (Flow flow : List.copyOf(flows)) {
      if (!flow.active()) {
        continue;
      }
      Instant now = clock.instant();
      Observation seen = observe(flow);
      Verdict verdict = flow.phase() == Phase.STEP_JUDGING
          ? judges.getOrDefault(flow.judgment().type(), Judge.MANUAL)
              .judge(flow, flow.phaseSince(), now)
          : Verdict.pending("");
      Flow next = FlowMachine.advance(flow, seen, verdict, now);
      if (next != flow) {
        try {
          persist(flow, next);
        } catch (IOException e) {
          log.error("cannot persist flow {} of {}; not acting on it", flow.id(), flow.app(), e);
          continue;
        }
        measure(flow, next, now);
      }
      if (next.active()) {
        act(next);
      } else {
        applied.remove(next.app());
        written.remove(next.app());
        splitWriteFailed.remove(next.app());
        stepStarted.remove(next.id());
      }
    }
  }

  private void measure(Flow before, Flow after, Instant now) {
    boolean leftRouting = before.phase() != after.phase() && List.of(Phase.STEP_ROUTING,
        Phase.STEP_ACK_PAUSED, Phase.PROMOTING_ROUTE, Phase.ROLLBACK_SHIFT, Phase.ROLLBACK_ROUTE,
        Phase.TEST_ROUTING, Phase.TEST_ENDING_ROUTE, Phase.ABORTING).contains(before.phase());
    if (leftRouting) {
      ackLatency.record(Duration.between(before.weightSetAt(), now));
    }
    if (before.phase() == Phase.STEP_JUDGING && after.phase() != Phase.STEP_JUDGING) {
      Instant started = stepStarted.getOrDefault(before.id(), before.phaseSince());
      stepDurations.record(Duration.between(started, now));
      stepStarted.put(before.id(), now);
    }
    if (!before.phase().rollingBack() && after.phase().rollingBack()) {
      rollbacks.increment();
    }
    // New entries follow the last one the flow had before (the history is bounded, so its
    // length alone does not say what is new).
    List<HistoryEntry> earlier = before.history();
    int from = earlier.isEmpty() ? 0
        : after.history().lastIndexOf(earlier.get(earlier.size() - 1)) + 1;
    for (int i = from; i < after.history().size(); i++) {
      HistoryEntry entry = after.history().get(i);
      log.info("flow {} of {}: {} {} [{}]{}", after.id(), after.app(), entry.event(),
          entry.detail(), entry.by(), entry.acks().isEmpty() ? "" : " acks " + entry.acks());
    }
  }

  /** Makes the workloads and the split what the flow says; each change is made once. */
  private void act(Flow flow) {
    AppKey app = flow.app();
    Map<SubsetRole, RoleTarget> done = applied.computeIfAbsent(app,
        key -> new EnumMap<>(SubsetRole.class));
    for (Map.Entry<SubsetRole, RoleTarget> entry : flow.workloads().entrySet()) {
      SubsetRole role = entry.getKey();
      RoleTarget target = entry.getValue();
      if (target.equals(done.get(role))) {
        continue;
      }
      RoleStatus status = driver.status(app, role);
      // Where the driver cannot tell versions (file mode), only main at the start of a flow is
      // taken as running what the target says: every other target goes through the driver.
      boolean versionMatches = status.version().isEmpty()
          ? role == SubsetRole.MAIN && target.version().equals(flow.oldVersion())
          : status.version().equals(target.version());
      boolean already = status.replicas() == target.replicas()
          && (target.replicas() == 0 || versionMatches);
      try {
        if (!already) {
          driver.apply(flow, role, target);
        }
        done.put(role, target);
        driverErrors.remove(app);
      } catch (Exception e) {
        String message = role.label() + " -> " + target + ": " + e.getMessage();
        if (!message.equals(driverErrors.put(app, message))) {
          log.warn("flow {} of {}: the workload driver failed ({}); retrying", flow.id(), app,
              message);
        }
      }
    }
    AppSplits want = new AppSplits(flow.split(), Optional.empty());
    if (!flow.split().equals(written.get(app))) {
      try {
        if (!splits.get(app).equals(want)) {
          if (splitWriteFailed.contains(app)) {
            splits.set(app, want);
          } else {
            // The flow, written before this, is the split's durable record: the proxies need
            // not wait for the split file's fsyncs (up to 12 ms each on the bench machine).
            splits.setAlreadyRecorded(app, want);
          }
        }
        written.put(app, flow.split());
        splitWriteFailed.remove(app);
      } catch (IOException e) {
        // A write that fails again would hand the proxies the split and take it back on
        // every tick; the retries write it before anyone sees it.
        splitWriteFailed.add(app);
        log.error("flow {} of {}: cannot store split {}; retrying", flow.id(), app,
            flow.split(), e);
      }
    }
  }

  private void persist(Flow before, Flow after) throws IOException {
    List<Flow> next = new ArrayList<>(flows);
    if (before == null) {
      next.add(after);
    } else {
      for (int i = 0; i < next.size(); i++) {
        if (next.get(i).id().equals(before.id())) {
          next.set(i, after);
        }
      }
    }
    store.save(after);
    flows.clear();
    flows.addAll(next);
    historyListener.recorded(after, HistoryListener.added(before, after));
  }

  private synchronized double count(Phase phase) {
    return flows.stream().filter(flow -> flow.phase() == phase).count();
  }

  /** Stops the loop; the driver belongs to whoever made it (workloads outlive the engine). */
  @Override
  public void close() {
    loop.shutdownNow();
    try {
      loop.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
