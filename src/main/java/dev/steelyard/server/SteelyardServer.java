package dev.steelyard.server;

import dev.steelyard.admin.AdminServer;
import dev.steelyard.analysis.AutomaticJudge;
import dev.steelyard.analysis.MetricSources;
import dev.steelyard.analysis.PrometheusSource;
import dev.steelyard.feedback.ProxyRegistry;
import dev.steelyard.load.LoadReportingService;
import dev.steelyard.load.LoadStore;
import dev.steelyard.loop.BackgroundLoops;
import dev.steelyard.publish.SnapshotPublisher;
import dev.steelyard.rollout.FlowStore;
import dev.steelyard.rollout.HookWorkloads;
import dev.steelyard.rollout.RolloutEngine;
import dev.steelyard.rollout.WorkloadDriver;
import dev.steelyard.source.AppCatalog;
import dev.steelyard.split.FileSplitStore;
import dev.steelyard.split.SplitStore;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.xds.ConnectionCap;
import dev.steelyard.xds.HeldVersions;
import dev.steelyard.xds.IndexedCache;
import dev.steelyard.xds.PackOnce;
import dev.steelyard.xds.XdsLimits;
import dev.steelyard.xds.XdsService;
import dev.steelyard.xds.XdsStreams;
import dev.steelyard.xds.XdsTls;
import io.envoyproxy.controlplane.server.DefaultExecutorGroup;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Steelyard control plane: the xDS server, the publisher, the split store and the admin API,
 * wired in the direction data flows (sources and splits -> publisher -> cache -> proxies, and
 * ACKs/NACKs back into the proxy registry).
 */
public final class SteelyardServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(SteelyardServer.class);
  public static final String VERSION = "0.1.0";

  private final ServerConfig config;
  private final AppCatalog catalog;
  private final SplitStore splits;
  private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final BackgroundLoops loops = new BackgroundLoops();
  private SnapshotPublisher publisher;
  private ProxyRegistry proxies;
  private Server xds;
  private ConnectionCap connectionCap;
  private AdminServer admin;
  private int adminPort;
  private WorkloadDriver workloads;
  private boolean rollouts;
  private RolloutEngine engine;
  private WorkloadDriver ownDriver;
  private boolean rolloutsElected;
  private FlowStore flowStore;
  private LoadStore load;

  /** A server whose splits are kept in {@code config.dataDir()}. */
  public SteelyardServer(ServerConfig config, AppCatalog catalog) throws IOException {
    this(config, catalog, FileSplitStore.open(config.dataDir()));
    rollouts = true;
  }

  /**
   * The workloads the rollout engine changes. A server with a data directory runs the engine
   * anyway, on the apps file without a hook (it waits and says what for); a server given a
   * split store of its own (Kubernetes) runs it only with a driver.
   */
  public SteelyardServer withWorkloads(WorkloadDriver driver) {
    this.workloads = driver;
    this.rollouts = true;
    return this;
  }

  /**
   * The rollout engine starts as a follower: it drives flows only once a leader election
   * calls {@link RolloutEngine#setLeading} (several replicas sharing one flow store).
   */
  public SteelyardServer withElectedRollouts() {
    this.rolloutsElected = true;
    return this;
  }

  /**
   * Where the rollout engine keeps flows; by default {@code rollouts.json} in the data
   * directory (in a cluster, the CanaryRollouts' status).
   */
  public SteelyardServer withFlowStore(FlowStore store) {
    this.flowStore = store;
    return this;
  }

  public SteelyardServer(ServerConfig config, AppCatalog catalog, SplitStore splits) {
    this.config = config;
    this.catalog = catalog;
    this.splits = splits;
  }

  /** Starts everything; on failure, stops what already started and rethrows. */
  public SteelyardServer start() throws Exception {
    try {
      return startAll();
    } catch (Exception | Error e) {
      close();
      throw e;
    }
  }

  private SteelyardServer startAll() throws Exception {
    HeldVersions heldVersions = new HeldVersions();
    IndexedCache cache = new IndexedCache(heldVersions);
    XdsLimits limits = config.xdsLimits();
    connectionCap = new ConnectionCap(limits.maxConnections(), meters);
    // The streams own the protocol state; the registry keeps what their events report.
    proxies = new ProxyRegistry();
    XdsStreams streams = new XdsStreams(cache, heldVersions, limits, proxies, meters);
    publisher = new SnapshotPublisher(catalog, splits, cache, config.translator(),
        config.holdoff(), config.maxHoldoff(), meters);
    publisher.waitForProxiesWith(proxies::lagging);
    catalog.onChange(publisher::requestPublish);
    splits.onChange(publisher::requestPublish);
    publisher.start();
    loops.register("publisher", publisher::stopped);
    catalog.registerLoops(loops);

    // Each resource is packed into an Any once, not once per stream: a push to N proxies
    // otherwise serializes the same resources N times (bench/README.md: server CPU per weight
    // push and time to the last ACK).
    TransportFailureLog.install();
    V3DiscoveryServer discovery = new V3DiscoveryServer(List.of(streams), streams,
        new DefaultExecutorGroup(), new PackOnce());
    ServerConfig.Analysis analysis = config.analysis();
    load = new LoadStore(analysis.loadResolution(), analysis.loadRetention(), Clock.systemUTC(),
        meters);
    MetricSources sources = new MetricSources(load,
        analysis.prometheus().map(PrometheusSource::new));
    LoadReportingService loadReports = new LoadReportingService(load,
        analysis.loadReportInterval(), () -> publisher.current().view());
    NettyServerBuilder builder = NettyServerBuilder.forAddress(
            new InetSocketAddress(config.bindHost(), config.xdsPort()))
        // ADS only: per-type streams would show up as separate proxies that never ACK routes.
        .addService(XdsService.guarded(discovery.getAggregatedDiscoveryServiceImpl(),
            config.xdsAuth(), limits, meters))
        .addService(XdsService.guardedLoadReports(loadReports, config.xdsAuth(), meters))
        .channelFactory(connectionCap.channelFactory())
        .bossEventLoopGroup(connectionCap.boss())
        .workerEventLoopGroup(connectionCap.workers())
        .maxInboundMessageSize(limits.maxRequestBytes())
        .maxConcurrentCallsPerConnection(limits.maxStreamsPerConnection())
        // A connection that carries no stream for this long is closed (a proxy keeps one open).
        .maxConnectionIdle(1, TimeUnit.MINUTES)
        // Requests are handled on the connection's event loop instead of being handed to a
        // pool thread per message: with 1,000 proxies ACKing a push, that was a thread wake-up
        // per ACK. The request path does no I/O and holds locks briefly (IndexedCache
        // computes versions before taking its lock); a NACK is logged synchronously.
        .directExecutor()
        // Envoy and gRPC clients send keepalive pings; refusing them would close their streams.
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        // And the server pings a silent connection itself: a proxy behind a half-open
        // connection (its host gone without a FIN) is dropped instead of counted as connected.
        .keepAliveTime(config.xdsKeepalive().toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveTimeout(config.xdsKeepalive().toMillis(), TimeUnit.MILLISECONDS);
    if (config.xdsAuth().tls().isPresent()) {
      builder.sslContext(XdsTls.serverContext(config.xdsAuth()));
    }
    xds = builder.build().start();

    if (rollouts) {
      if (workloads == null) {
        ownDriver = new HookWorkloads(catalog, Optional.empty());
      }
      WorkloadDriver driver = workloads != null ? workloads : ownDriver;
      FlowStore store = flowStore != null ? flowStore : FlowStore.open(config.dataDir());
      engine = new RolloutEngine(catalog, splits, publisher, proxies, driver, store, meters,
          Clock.systemUTC(), Duration.ofMillis(200),
          !rolloutsElected);
      engine.withJudge("automatic", new AutomaticJudge(sources));
      engine.start();
    }
    admin = new AdminServer(catalog, splits, publisher, proxies, meters, config.adminToken(),
        VERSION, loops, Optional.ofNullable(engine), sources);
    adminPort = admin.start(config.adminBindHost(), config.adminPort(),
        config.maxConnections(), config.adminIdleTimeout());
    log.info("steelyard {} serving xDS on {}:{} (authentication: {}) and the admin API on "
        + "{}:{}, apps from {}", VERSION, config.bindHost(), xdsPort(),
        config.xdsAuth().describe(), config.adminBindHost(), adminPort, catalog.describe());
    if (!config.xdsAuth().required()) {
      log.warn("NO xDS AUTHENTICATION: any client that reaches port {} counts as a proxy and "
          + "can report what it applied; set --xds-token-file or --xds-tls-client-ca",
          xdsPort());
    }
    checkFileDescriptorLimit(config.maxConnections() + config.xdsLimits().maxConnections());
    if (config.adminToken().isEmpty()) {
      if (isLoopback(config.adminBindHost())) {
        log.warn("NO ADMIN TOKEN: the admin API listens on {} only, so only this host can "
            + "change traffic splits; set STEELYARD_ADMIN_TOKEN or --admin-token-file",
            config.adminBindHost());
      } else {
        log.warn("NO ADMIN TOKEN and the admin API listens on {}: ANYONE WHO REACHES PORT {} "
            + "CAN CHANGE TRAFFIC SPLITS; set STEELYARD_ADMIN_TOKEN or --admin-token-file",
            config.adminBindHost(), adminPort);
      }
    }
    return this;
  }

  /**
   * Warns when both ports at their connection cap would not leave descriptors for the rest (the
   * apps file, health checks, Kubernetes watches). The JVM raises its soft limit to the hard one
   * at start (HotSpot's MaxFDLimit, on by default); past that only the launcher's environment
   * can help ({@code ulimit -n}, systemd's LimitNOFILE, the container runtime).
   */
  private static void checkFileDescriptorLimit(int maxConnections) {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      long limit = unix.getMaxFileDescriptorCount();
      long needed = maxConnections + 256L;
      if (limit < needed) {
        log.warn("the open-file limit is {}, but both ports at their connection caps ({} in "
            + "all) and the rest need about {}: raise it (ulimit -n) or lower "
            + "--max-connections / --max-xds-connections", limit, maxConnections, needed);
      }
    }
  }

  /** True for an address that only this host can reach (127.0.0.0/8, ::1, "localhost"). */
  static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  public int xdsPort() {
    return xds.getPort();
  }

  public int adminPort() {
    return adminPort;
  }

  public SnapshotPublisher publisher() {
    return publisher;
  }

  /** The background loops; one that stopped turns {@code /readyz} to 503. */
  public BackgroundLoops loops() {
    return loops;
  }

  /** The proxies' load reports, per app and role. */
  public LoadStore load() {
    return load;
  }

  public ProxyRegistry proxies() {
    return proxies;
  }

  /** The rollout engine; empty where flows are not available. */
  public Optional<RolloutEngine> rollouts() {
    return Optional.ofNullable(engine);
  }

  public void awaitTermination() throws InterruptedException {
    xds.awaitTermination();
  }

  @Override
  public void close() {
    boolean serving = xds != null;
    if (serving) {
      log.info("stopping: closing the admin API and the xDS streams");
    }
    if (admin != null) {
      admin.close();
    }
    if (xds != null) {
      xds.shutdownNow();
      try {
        xds.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (connectionCap != null) {
      connectionCap.close();
    }
    if (engine != null) {
      engine.close();
    }
    if (ownDriver != null) {
      ownDriver.close();
    }
    if (publisher != null) {
      publisher.close();
    }
    catalog.close();
    meters.close();
    if (serving) {
      log.info("stopped");
    }
  }
}
