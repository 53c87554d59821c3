package dev.steelyard.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.FileSplitStore;
import dev.steelyard.split.MeshViewComposer;
import dev.steelyard.split.SplitMode;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.translate.MeshTranslator;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.ProxyResources;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.MeshView;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One server under test, in its own JVM: {@code steelyard}, {@code stock} or {@code floor}. Each
 * also serves a tiny control endpoint for the harness on {@code ctlPort}:
 * {@code /weight?app=&w=} (stock, floor; Steelyard is driven through its real REST API),
 * {@code /churn?app=&gen=}, {@code /cpu}, {@code /stats} (heap after GC).
 *
 * <p>Usage: {@code BenchServer <mode> <xdsPort> <ctlPort> <adminPort> <apps> <endpoints>}
 */
public final class BenchServer {

  interface Target {
    void weight(int app, int percent) throws Exception;

    default String extraStats() {
      return "";
    }
  }

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    int xdsPort = Integer.parseInt(args[1]);
    int ctlPort = Integer.parseInt(args[2]);
    int adminPort = Integer.parseInt(args[3]);
    Fleet fleet = new Fleet(Integer.parseInt(args[4]), Integer.parseInt(args[5]));
    Target target = switch (mode) {
      case "steelyard" -> steelyard(fleet, xdsPort, adminPort);
      case "stock" -> stock(fleet, xdsPort);
      case "floor" -> FloorServer.start(fleet, xdsPort);
      default -> throw new IllegalArgumentException("mode " + mode);
    };

    HttpServer ctl = HttpServer.create(new InetSocketAddress("127.0.0.1", ctlPort), 64);
    ctl.setExecutor(Executors.newSingleThreadExecutor());
    ctl.createContext("/weight", ex -> handle(ex, q -> {
      target.weight(Integer.parseInt(q.get("app")), Integer.parseInt(q.get("w")));
      return "{}";
    }));
    ctl.createContext("/churn", ex -> handle(ex, q -> {
      fleet.churn(Integer.parseInt(q.get("app")), Integer.parseInt(q.get("gen")));
      return "{}";
    }));
    ctl.createContext("/cpu", ex -> handle(ex, q -> "{\"cpuNanos\":" + cpuNanos()
        + ",\"compileMs\":" + ManagementFactory.getCompilationMXBean().getTotalCompilationTime()
        + ",\"gcMs\":" + gcMillis() + "}"));
    ctl.createContext("/stats", ex -> handle(ex, q -> {
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      Runtime rt = Runtime.getRuntime();
      return "{\"cpuNanos\":" + cpuNanos() + ",\"heapUsed\":" + (rt.totalMemory() - rt.freeMemory())
          + ",\"threads\":" + Thread.activeCount() + target.extraStats() + "}";
    }));
    ctl.start();
    System.out.println("READY " + mode);
    Thread.currentThread().join();
  }

  /** Time the collectors report (pauses and, for G1, concurrent cycles), summed. */
  static long gcMillis() {
    return ManagementFactory.getGarbageCollectorMXBeans().stream()
        .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime).sum();
  }

  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  private interface Handler {
    String run(Map<String, String> query) throws Exception;
  }

  private static void handle(HttpExchange ex, Handler handler) throws IOException {
    Map<String, String> q = new HashMap<>();
    String raw = ex.getRequestURI().getRawQuery();
    if (raw != null) {
      for (String kv : raw.split("&")) {
        int eq = kv.indexOf('=');
        q.put(kv.substring(0, eq), kv.substring(eq + 1));
      }
    }
    int status = 200;
    String body;
    try {
      body = handler.run(q);
    } catch (Exception e) {
      status = 500;
      body = "{\"error\":\"" + e + "\"}";
      e.printStackTrace();
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static Snapshot snapshot(ProxyResources r, long version) {
    return Snapshot.create(r.clusters(), r.endpoints(), r.listeners(), r.routes(), List.of(),
        Long.toString(version));
  }

  /** The translator settings every server uses: the sidecar route layout of SIDECAR_ROUTES. */
  static final TranslatorSettings SETTINGS = TranslatorSettings.DEFAULTS.withSidecarRoutes(
      TranslatorSettings.SidecarRoutes.of(System.getProperty("bench.sidecarRoutes", "shared")));

  /** Canary weight {@code percent} as a test split; 0 is no split (as a rollback leaves it). */
  static SplitPolicy policy(int percent) {
    return percent == 0 ? SplitPolicy.OFF : new SplitPolicy(SplitMode.TEST, percent * 100);
  }

  /** The real server; weights go through its REST API, so /weight is not used. */
  private static Target steelyard(Fleet fleet, int xdsPort, int adminPort) throws Exception {
    var dir = Files.createTempDirectory("steelyard-bench");
    ServerConfig config = ServerConfig.defaults(dir).withPorts(xdsPort, adminPort)
        .withBindHost("127.0.0.1").withTranslator(SETTINGS);
    String holdoff = System.getProperty("bench.holdoffMs");
    if (holdoff != null) {
      config = config.withHoldoff(java.time.Duration.ofMillis(Long.parseLong(holdoff)),
          config.maxHoldoff());
    }
    SteelyardServer server = new SteelyardServer(config, fleet, FileSplitStore.open(dir));
    if (Boolean.getBoolean("bench.rollouts")) {
      // Rollout flows for the rollback scenario, on workloads that are ready as a flow asks
      // at once: the flow waits for its proxies' ACKs only.
      server.withWorkloads(new BenchWorkloads(fleet.endpointsPerSubset()));
    }
    server.start();
    return (app, percent) -> {
      throw new UnsupportedOperationException("use PUT /api/v1/apps/{ns}/{name}/split on "
          + server.adminPort());
    };
  }

  /**
   * java-control-plane as its examples use it: one SimpleCache, and on every change a full
   * snapshot rebuilt with one version for all types, set on the thread that handles the change.
   * Groups are by proxy kind so that each kind gets the same resources as from Steelyard.
   */
  private static Target stock(Fleet fleet, int xdsPort) throws Exception {
    if (SETTINGS.sidecarRoutes() == TranslatorSettings.SidecarRoutes.PER_APP) {
      throw new IllegalArgumentException("stock (java-control-plane's SimpleCache) cannot serve "
          + "scoped routes: leave it out of SERVERS with SIDECAR_ROUTES=per-app");
    }
    // Sidecars that declare a scope (Scope) get a group per scope, with their full resources
    // filtered to it; the group's first request asks for its snapshot.
    Map<String, String> scopedGroups = new ConcurrentHashMap<>();
    ProxyResources[] lastSidecar = new ProxyResources[1];
    Map<AppKey, AppSplits> splits = new TreeMap<>();
    long[] version = {0};
    ExecutorService newGroups = Executors.newSingleThreadExecutor();
    SimpleCache<String>[] cacheRef = new SimpleCache[1];
    SimpleCache<String> cache = new SimpleCache<>(node -> {
      ProxyKind kind = ProxyKind.of(node);
      String calls = kind == ProxyKind.SIDECAR ? Scope.calls(node) : "";
      if (calls.isEmpty()) {
        return kind.label();
      }
      String group = kind.label() + "|" + calls;
      if (scopedGroups.putIfAbsent(group, calls) == null) {
        newGroups.execute(() -> {
          synchronized (splits) {
            cacheRef[0].setSnapshot(group, snapshot(Scope.filter(lastSidecar[0], calls),
                version[0]));
          }
        });
      }
      return group;
    });
    cacheRef[0] = cache;
    Runnable rebuild = () -> {
      synchronized (splits) {
        version[0]++;
        MeshView view = MeshViewComposer.compose(fleet.apps(), splits);
        for (ProxyKind kind : List.of(ProxyKind.SIDECAR, ProxyKind.GRPC)) {
          ProxyResources r = MeshTranslator.translate(view, kind, SETTINGS);
          cache.setSnapshot(kind.label(), snapshot(r, version[0]));
          if (kind == ProxyKind.SIDECAR) {
            lastSidecar[0] = r;
            scopedGroups.forEach((group, calls) ->
                cache.setSnapshot(group, snapshot(Scope.filter(r, calls), version[0])));
          }
        }
      }
    };
    rebuild.run();
    fleet.onChange(rebuild);
    V3DiscoveryServer discovery = new V3DiscoveryServer(cache);
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", xdsPort))
        .addService(discovery.getAggregatedDiscoveryServiceImpl())
        .build().start();
    return (app, percent) -> {
      synchronized (splits) {
        splits.put(Fleet.key(app), new AppSplits(policy(percent), Optional.empty()));
      }
      rebuild.run();
    };
  }
}
