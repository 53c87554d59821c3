package dev.steelyard.bench;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.WireFormat;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The client side: N simulated proxies, one TCP connection and one ADS stream each, in this JVM.
 * Envoy-like proxies subscribe CDS (wildcard) -> EDS (all clusters) -> LDS (wildcard) -> RDS
 * (with per-app routes, LDS -> SRDS (wildcard) -> RDS of every route configuration named);
 * gRPC-like ones LDS {@code app-k} -> RDS {@code grpc/bench/app-k} -> CDS -> EDS of that app.
 * Every response is ACKed at once. All times come from this JVM's clock.
 *
 * <p>Usage: {@code Harness <name> <xdsPort> <ctlPort> <adminPort|0> <apps> <out.json>} with
 * system properties bench.n1, bench.n2, bench.grpcShare, bench.weightReps, bench.weightReps2,
 * bench.churnReps, bench.stormReps.
 */
public final class Harness {

  static final String CDS = Resources.V3.CLUSTER_TYPE_URL;
  static final String EDS = Resources.V3.ENDPOINT_TYPE_URL;
  static final String LDS = Resources.V3.LISTENER_TYPE_URL;
  static final String RDS = Resources.V3.ROUTE_TYPE_URL;
  /** Scoped routes: java-control-plane has no constant for them. */
  static final String SRDS = "type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration";

  /** What the proxies are waiting for after a trigger. */
  static final class Expectation {
    final String type;
    final Predicate<DiscoveryResponse> match;
    final boolean[] needs;
    final long[] ackAt;
    final AtomicInteger remaining;
    final CountDownLatch done = new CountDownLatch(1);
    final AtomicLong responses = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();
    final AtomicIntegerArray touched;

    Expectation(String type, Predicate<DiscoveryResponse> match, boolean[] needs) {
      this.type = type;
      this.match = match;
      this.needs = needs;
      this.ackAt = new long[needs.length];
      int n = 0;
      for (boolean b : needs) {
        n += b ? 1 : 0;
      }
      this.remaining = new AtomicInteger(n);
      this.touched = new AtomicIntegerArray(needs.length);
      if (n == 0) {
        done.countDown();
      }
    }
  }

  /** This server's current change; each server has its own proxies, so its own expectation. */
  volatile Expectation expect;
  /** Proxies that have ACKed all four types on their current stream. */
  final AtomicInteger complete = new AtomicInteger();
  volatile CountDownLatch allComplete = new CountDownLatch(0);

  final class Proxy {
    final int id;
    final boolean sidecar;
    final int app;
    final Node node;
    ManagedChannel channel;
    StreamObserver<DiscoveryRequest> out;
    /** Per type, the subscription as a request without version and nonce, names pre-encoded. */
    final Map<String, DiscoveryRequest> subs = new ConcurrentHashMap<>();
    int ackedTypes;
    int generation;
    boolean nodeSent;
    volatile boolean closed;
    /** For a sidecar with a scope, the apps it declares it calls (by index); null: all. */
    final boolean[] calls;

    Proxy(int id, boolean sidecar, int app) {
      this.id = id;
      this.sidecar = sidecar;
      this.app = app;
      Struct.Builder meta = Struct.newBuilder()
          .putFields("steelyard.kind",
              Value.newBuilder().setStringValue(sidecar ? "sidecar" : "grpc").build())
          .putFields("steelyard.app",
              Value.newBuilder().setStringValue("client-" + app).build());
      if (sidecar && sidecarScope > 0) {
        // Proxy i calls apps i .. i+k-1 (mod apps): every app is in k sidecars' scopes.
        calls = new boolean[apps];
        StringBuilder list = new StringBuilder();
        for (int j = 0; j < Math.min(sidecarScope, apps); j++) {
          int a = (id + j) % apps;
          calls[a] = true;
          list.append(list.length() == 0 ? "" : ",").append(Fleet.NAMESPACE).append("/app-")
              .append(a);
        }
        meta.putFields("steelyard.calls", Value.newBuilder().setStringValue(list.toString())
            .build());
      } else {
        calls = null;
      }
      node = Node.newBuilder().setId("proxy-" + id).setCluster("bench")
          .setUserAgentName(sidecar ? "envoy" : "grpc-java-bench")
          .setMetadata(meta).build();
    }

    /** Whether this proxy needs a route or endpoint change of {@code changed}. */
    boolean needs(int changed) {
      if (!sidecar) {
        return app == changed;
      }
      return calls == null || calls[changed];
    }

    synchronized void close() {
      closed = true;
      if (channel != null) {
        channel.shutdownNow();
      }
    }

    synchronized void open() {
      if (channel == null) {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", xdsPort)
            .eventLoopGroup(group).channelType(NioSocketChannel.class)
            .directExecutor().usePlaintext()
            .flowControlWindow(4 << 20)
            .maxInboundMessageSize(64 << 20)
            .build();
      }
      subs.clear();
      ackedTypes = 0;
      nodeSent = false;
      int gen = ++generation;
      out = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(
          new StreamObserver<>() {
            @Override
            public void onNext(DiscoveryResponse response) {
              received(gen, response);
            }

            @Override
            public void onError(Throwable t) {
              if (gen == generation && !stopping && !closed
                  && Status.fromThrowable(t).getCode() != Status.Code.CANCELLED) {
                System.err.println("proxy " + id + " stream error: " + t);
              }
            }

            @Override
            public void onCompleted() {}
          });
      if (sidecar) {
        request(CDS, List.of(), "", "");
      } else {
        request(LDS, List.of("app-" + app), "", "");
      }
    }

    synchronized void reopen() {
      out.onError(Status.CANCELLED.asException());
      open();
    }

    private void request(String type, List<String> names, String version, String nonce) {
      DiscoveryRequest.Builder sub = DiscoveryRequest.newBuilder().setTypeUrl(type);
      // Names go in as UTF-8 bytes, so an ACK copies them instead of encoding 150 strings
      // again; the bytes on the wire are the same.
      for (String name : names) {
        sub.addResourceNamesBytes(ByteString.copyFromUtf8(name));
      }
      // Node on every request, as Envoy does by default: java-control-plane groups each
      // request by the node it carries.
      sub.setNode(node);
      DiscoveryRequest template = sub.build();
      subs.put(type, template);
      send(template, version, nonce);
    }

    private void send(DiscoveryRequest template, String version, String nonce) {
      out.onNext(template.toBuilder().setVersionInfo(version).setResponseNonce(nonce).build());
    }

    synchronized void received(int gen, DiscoveryResponse response) {
      if (gen != generation) {
        return;
      }
      String type = response.getTypeUrl();
      Expectation e = expect;
      if (e != null) {
        e.responses.incrementAndGet();
        e.bytes.addAndGet(response.getSerializedSize());
        e.touched.set(id, 1);
      }
      DiscoveryRequest sub = subs.get(type);
      if (sub != null) {
        send(sub, response.getVersionInfo(), response.getNonce());
      } else {
        request(type, List.of(), response.getVersionInfo(), response.getNonce());
      }
      if (e != null && e.needs[id] && e.ackAt[id] == 0 && type.equals(e.type)
          && e.match.test(response)) {
        e.ackAt[id] = System.nanoTime();
        if (e.remaining.decrementAndGet() == 0) {
          e.done.countDown();
        }
      }
      int bit = switch (type) {
        case CDS -> 1;
        case EDS -> 2;
        case LDS -> 4;
        case RDS -> 8;
        case SRDS -> 16;
        default -> 0;
      };
      if ((ackedTypes & bit) == 0) {
        ackedTypes |= bit;
        // First response of a type: subscribe to the next one, as the real clients do.
        if (sidecar) {
          if (type.equals(CDS)) {
            // EDS for the clusters the CDS response named, as Envoy does: with a sidecar
            // scope that the server applies, fewer than all.
            request(EDS, clusterNames(response), "", "");
          } else if (type.equals(EDS)) {
            request(LDS, List.of(), "", "");
          } else if (type.equals(LDS)) {
            // The route configuration the listener names; with per-app routes, the scopes
            // come first and name one route configuration per app (as Envoy subscribes them).
            if (scopedRoutes(response)) {
              request(SRDS, List.of(), "", "");
            } else {
              request(RDS, List.of("steelyard_sidecar_outbound"), "", "");
            }
          } else if (type.equals(SRDS)) {
            request(RDS, routeConfigurationNames(response), "", "");
          }
        } else {
          String k = "bench/app-" + app;
          if (type.equals(LDS)) {
            request(RDS, List.of("grpc/" + k), "", "");
          } else if (type.equals(RDS)) {
            request(CDS, List.of(k + "/main", k + "/baseline", k + "/canary"), "", "");
          } else if (type.equals(CDS)) {
            request(EDS, List.of(k + "/main", k + "/baseline", k + "/canary"), "", "");
          }
        }
        if ((ackedTypes & 15) == 15 && (ackedTypes & 32) == 0) {
          ackedTypes |= 32;
          complete.incrementAndGet();
          allComplete.countDown();
        }
      }
    }
  }

  final int xdsPort;
  final int ctlPort;
  final int adminPort;
  final int apps;
  final String name;
  static final int sidecarScope = Integer.getInteger("bench.sidecarScope", 0);
  /** The canary weight (percent) this harness last set per app; 0: none. */
  final int[] weights;
  /** One event loop group for every server's proxies: only one server's are busy at a time. */
  static final EventLoopGroup group = new NioEventLoopGroup(2);
  final List<Proxy> proxies = new ArrayList<>();
  static final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  static volatile boolean stopping;
  final double grpcShare = Double.parseDouble(System.getProperty("bench.grpcShare", "0.5"));

  Harness(String name, int xdsPort, int ctlPort, int adminPort, int apps) {
    this.name = name;
    this.xdsPort = xdsPort;
    this.ctlPort = ctlPort;
    this.adminPort = adminPort;
    this.apps = apps;
    this.weights = new int[apps];
  }

  // ---------------------------------------------------------------- control calls

  String get(String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + ctlPort + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(path + " -> " + r.statusCode() + " " + r.body());
    }
    return r.body();
  }

  static long field(String json, String key) {
    Matcher m = Pattern.compile("\"" + key + "\":(\\d+)").matcher(json);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  long cpu() throws Exception {
    return field(get("/cpu"), "cpuNanos");
  }

  /** Server process CPU (ns), JIT compile time (ms) and GC time (ms) so far. */
  long[] cpuJitGc() throws Exception {
    String json = get("/cpu");
    return new long[] {field(json, "cpuNanos"), field(json, "compileMs"), field(json, "gcMs")};
  }

  void setWeight(int app, int percent) throws Exception {
    if (adminPort > 0) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(
              "http://127.0.0.1:" + adminPort + "/api/v1/apps/bench/app-" + app + "/split"))
              .PUT(HttpRequest.BodyPublishers.ofString(
                  "{\"mode\":\"test\",\"canaryWeight\":" + percent + "}"))
              .header("Content-Type", "application/json").build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("PUT split -> " + r.statusCode() + " " + r.body());
      }
    } else {
      get("/weight?app=" + app + "&w=" + percent);
    }
  }

  // ---------------------------------------------------------------- scenarios

  double connect(int upTo) throws Exception {
    int from = proxies.size();
    allComplete = new CountDownLatch(upTo - from);
    long t0 = System.nanoTime();
    for (int i = from; i < upTo; i++) {
      // Spread the gRPC share evenly: proxy i is gRPC-like when its slot falls in the share.
      boolean grpc = Math.floor((i + 1) * grpcShare) > Math.floor(i * grpcShare);
      Proxy p = new Proxy(i, !grpc, i % apps);
      proxies.add(p);
      p.open();
    }
    // 90 s, and more for large batches (1,000 proxies of the 1,000-app fleet took 48-70 s).
    long timeout = 90 + (upTo - from) / 20;
    if (!allComplete.await(timeout, TimeUnit.SECONDS)) {
      throw new IllegalStateException("connect: " + allComplete.getCount() + " of "
          + (upTo - from) + " never complete within " + timeout + " s");
    }
    return (System.nanoTime() - t0) / 1e6;
  }

  double storm() throws Exception {
    allComplete = new CountDownLatch(proxies.size());
    long t0 = System.nanoTime();
    for (Proxy p : proxies) {
      p.reopen();
    }
    if (!allComplete.await(90 + proxies.size() / 20, TimeUnit.SECONDS)) {
      throw new IllegalStateException("storm: " + allComplete.getCount() + " never complete");
    }
    return (System.nanoTime() - t0) / 1e6;
  }

  boolean[] needs(int app) {
    boolean[] needs = new boolean[proxies.size()];
    for (Proxy p : proxies) {
      needs[p.id] = p.needs(app);
    }
    return needs;
  }

  static Predicate<DiscoveryResponse> weightIs(int app, int basisPoints) {
    ByteString vhost = ByteString.copyFromUtf8("bench/app-" + app);
    String canary = "bench/app-" + app + "/canary";
    return response -> {
      for (Any any : response.getResourcesList()) {
        try {
          VirtualHost vh = virtualHost(any.getValue(), vhost);
          if (vh == null) {
            continue;
          }
          for (WeightedCluster.ClusterWeight cw :
              vh.getRoutes(0).getRoute().getWeightedClusters().getClustersList()) {
            if (cw.getName().equals(canary) && cw.getWeight().getValue() == basisPoints) {
              return true;
            }
          }
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }
      return false;
    };
  }

  /**
   * The virtual host called {@code name} in a serialized RouteConfiguration, or null. Only
   * that one is decoded; the others are skipped by their length. Decoding all 50 in every
   * Envoy's response was the harness's largest cost per weight change, and it is CPU a
   * fleet of real proxies spends on its own machines, not on the control plane's.
   */
  static VirtualHost virtualHost(ByteString routeConfiguration, ByteString name)
      throws IOException {
    CodedInputStream in = routeConfiguration.newCodedInput();
    in.enableAliasing(true);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag != VIRTUAL_HOST_TAG) {
        in.skipField(tag);
        continue;
      }
      ByteString host = in.readBytes();
      if (name.equals(nameOf(host))) {
        return VirtualHost.parseFrom(host);
      }
    }
    return null;
  }

  // A tag is (field number << 3) | wire type.
  private static final int VIRTUAL_HOST_TAG =
      RouteConfiguration.VIRTUAL_HOSTS_FIELD_NUMBER << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  private static final int NAME_TAG =
      VirtualHost.NAME_FIELD_NUMBER << 3 | WireFormat.WIRETYPE_LENGTH_DELIMITED;

  private static ByteString nameOf(ByteString virtualHost) throws IOException {
    CodedInputStream in = virtualHost.newCodedInput();
    in.enableAliasing(true);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag == NAME_TAG) {
        return in.readBytes();
      }
      in.skipField(tag);
    }
    return ByteString.EMPTY;
  }

  /** Whether the listener of an LDS response routes by scopes (SRDS) rather than one RDS name. */
  static boolean scopedRoutes(DiscoveryResponse response) {
    try {
      for (Any any : response.getResourcesList()) {
        Listener listener = Listener.parseFrom(any.getValue());
        for (var chain : listener.getFilterChainsList()) {
          for (var filter : chain.getFiltersList()) {
            if (HttpConnectionManager.parseFrom(filter.getTypedConfig().getValue())
                .hasScopedRoutes()) {
              return true;
            }
          }
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return false;
  }

  /** The route configurations the scopes of an SRDS response name, each once, in order. */
  static List<String> routeConfigurationNames(DiscoveryResponse response) {
    java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>();
    try {
      for (Any any : response.getResourcesList()) {
        names.add(ScopedRouteConfiguration.parseFrom(any.getValue()).getRouteConfigurationName());
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return List.copyOf(names);
  }

  static List<String> clusterNames(DiscoveryResponse response) {
    List<String> names = new ArrayList<>(response.getResourcesCount());
    try {
      for (Any any : response.getResourcesList()) {
        // Cluster.name is field 1, like VirtualHost.name: read it without decoding the rest.
        names.add(nameOf(any.getValue()).toStringUtf8());
      }
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return names;
  }

  static Predicate<DiscoveryResponse> containsIp(String ip) {
    return response -> {
      for (Any any : response.getResourcesList()) {
        if (any.getValue().toStringUtf8().contains(ip)) {
          return true;
        }
      }
      return false;
    };
  }

  /** Runs one triggered change and returns its measurements. */
  Map<String, Object> change(String type, Predicate<DiscoveryResponse> match, int app,
      Trigger trigger) throws Exception {
    Expectation e = new Expectation(type, match, needs(app));
    long[] cpu0 = cpuJitGc();
    long clientCpu0 = clientCpu();
    long clientGc0 = clientGc();
    expect = e;
    long t0 = System.nanoTime();
    trigger.run();
    long returned = System.nanoTime();
    if (!e.done.await(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException(type + " change: " + e.remaining.get()
          + " proxies never ACKed");
    }
    long last = 0;
    List<Double> perProxy = new ArrayList<>();
    for (int i = 0; i < e.needs.length; i++) {
      if (e.needs[i]) {
        last = Math.max(last, e.ackAt[i]);
        perProxy.add((e.ackAt[i] - t0) / 1e6);
      }
    }
    // Let stray pushes (to proxies that did not need the change) arrive before counting.
    Thread.sleep(300);
    expect = null;
    long clientCpu1 = clientCpu();
    long clientGc1 = clientGc();
    long[] cpu1 = cpuJitGc();
    int touched = 0;
    for (int i = 0; i < e.needs.length; i++) {
      touched += e.touched.get(i);
    }
    int needed = 0;
    for (boolean b : e.needs) {
      needed += b ? 1 : 0;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("lastAckMs", (last - t0) / 1e6);
    m.put("triggerReturnedMs", (returned - t0) / 1e6);
    m.put("perProxyP50Ms", pct(perProxy, 50));
    m.put("perProxyP99Ms", pct(perProxy, 99));
    m.put("serverCpuMs", (cpu1[0] - cpu0[0]) / 1e6);
    // Of that window: time the JIT spent compiling, and GC time (both wall ms, as the JVM
    // reports them); a JIT share means the warm-up was too short for this path.
    m.put("serverJitMs", (double) (cpu1[1] - cpu0[1]));
    m.put("serverGcMs", (double) (cpu1[2] - cpu0[2]));
    // The harness shares the cores with the server: what it spent simulating the proxies.
    m.put("clientCpuMs", (clientCpu1 - clientCpu0) / 1e6);
    m.put("clientGcMs", (double) (clientGc1 - clientGc0));
    m.put("proxiesNeeding", needed);
    m.put("proxiesTouched", touched);
    m.put("responses", e.responses.get());
    m.put("bytes", e.bytes.get());
    return m;
  }

  static long clientCpu() {
    return ((com.sun.management.OperatingSystemMXBean)
        ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** GC time of this JVM so far (ms): a pause here delays the simulated proxies' ACKs. */
  static long clientGc() {
    long ms = 0;
    for (var gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ms += Math.max(0, gc.getCollectionTime());
    }
    return ms;
  }

  interface Trigger {
    void run() throws Exception;
  }

  static double pct(List<Double> values, double p) {
    if (values.isEmpty()) {
      return 0;
    }
    double[] v = values.stream().mapToDouble(Double::doubleValue).toArray();
    Arrays.sort(v);
    int idx = (int) Math.ceil(p / 100.0 * v.length) - 1;
    return v[Math.max(0, Math.min(v.length - 1, idx))];
  }

  static Map<String, Object> summary(List<Map<String, Object>> runs) {
    Map<String, Object> s = new LinkedHashMap<>();
    for (String key : List.of("lastAckMs", "perProxyP99Ms", "serverCpuMs", "serverJitMs",
        "serverGcMs", "clientCpuMs", "clientGcMs", "proxiesTouched",
        "responses", "bytes", "triggerReturnedMs")) {
      List<Double> v = new ArrayList<>();
      for (Map<String, Object> r : runs) {
        v.add(((Number) r.get(key)).doubleValue());
      }
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("p50", pct(v, 50));
      d.put("p99", pct(v, 99));
      d.put("max", pct(v, 100));
      d.put("mean", v.stream().mapToDouble(Double::doubleValue).average().orElse(0));
      s.put(key, d);
    }
    s.put("proxiesNeeding", runs.isEmpty() ? 0 : runs.get(0).get("proxiesNeeding"));
    s.put("reps", runs.size());
    return s;
  }

  Map<String, Object> stats() throws Exception {
    String json = get("/stats");
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("heapUsedBytes", field(json, "heapUsed"));
    m.put("threads", field(json, "threads"));
    m.put("cpuNanos", field(json, "cpuNanos"));
    return m;
  }

  /** Server stats with n proxies connected, and the heap they add per 1,000. */
  Map<String, Object> steadyState(Map<String, Object> idle, int n) throws Exception {
    Map<String, Object> steady = stats();
    steady.put("heapPer1000Bytes", ((long) steady.get("heapUsedBytes")
        - (long) idle.get("heapUsedBytes")) * 1000L / n);
    return steady;
  }

  /** Weight changes number {@code from} to {@code to - 1}: change i sets app i mod apps. */
  Map<String, Object> weightScenario(int from, int to, int offset) throws Exception {
    List<Map<String, Object>> runs = new ArrayList<>();
    for (int r = from; r < to; r++) {
      int app = (offset + r) % apps;
      int percent = 1 + (offset + r) % 49;
      if (percent == weights[app]) {
        percent = percent % 49 + 1;
      }
      int p = percent;
      runs.add(change(RDS, weightIs(app, p * 100), app, () -> setWeight(app, p)));
      weights[app] = p;
      Thread.sleep(100);
    }
    return scenario(runs);
  }

  /** Endpoint changes number {@code from} to {@code to - 1}, generations genOffset + i + 1. */
  Map<String, Object> churnScenario(int from, int to, int genOffset) throws Exception {
    List<Map<String, Object>> runs = new ArrayList<>();
    for (int r = from; r < to; r++) {
      int app = (r * 7 + 3) % apps;
      int gen = genOffset + r + 1;
      runs.add(change(EDS, containsIp(Fleet.churnIp(gen)), app,
          () -> get("/churn?app=" + app + "&gen=" + gen)));
      Thread.sleep(100);
    }
    return scenario(runs);
  }

  static Map<String, Object> scenario(List<Map<String, Object>> runs) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("summary", summary(runs));
    m.put("runs", runs);
    return m;
  }

  Map<String, Object> stormScenario(int reps) throws Exception {
    List<Double> storms = new ArrayList<>();
    List<Double> stormCpu = new ArrayList<>();
    for (int r = 0; r < reps; r++) {
      long c0 = cpu();
      storms.add(storm());
      stormCpu.add((cpu() - c0) / 1e6);
      Thread.sleep(1500);
    }
    return stormResult(storms, stormCpu);
  }

  static Map<String, Object> stormResult(List<Double> storms, List<Double> stormCpu) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("ms", storms);
    m.put("serverCpuMs", stormCpu);
    m.put("p50", storms.isEmpty() ? null : pct(storms, 50));
    m.put("max", storms.isEmpty() ? null : pct(storms, 100));
    return m;
  }

  /**
   * Rollbacks number {@code from} to {@code to - 1}, each on its own app. Steelyard: a canary
   * test flow is started through the REST API ({@code POST .../rollout}, 10 %) and its weight
   * waited for until every proxy that needs it has ACKed (not reported); then the clock starts
   * and {@code POST .../rollout/rollback} is called; done is the last needed ACK of a route
   * configuration whose virtual host for the app gives the canary no weight. Floor and stock,
   * which have no flows, get the same two steps as plain weight changes (10 %, then no split),
   * as a reference for the second.
   */
  Map<String, Object> rollbackScenario(int from, int to) throws Exception {
    List<Map<String, Object>> runs = new ArrayList<>();
    for (int r = from; r < to; r++) {
      int app = (r * 13 + 5) % apps;
      int setup = weights[app] == 10 ? 11 : 10;
      String flow = "/api/v1/apps/bench/app-" + app + "/rollout";
      if (adminPort > 0) {
        change(RDS, weightIs(app, setup * 100), app, () -> admin("POST", flow,
            "{\"kind\":\"test\",\"version\":\"v2\",\"weight\":" + setup + "}", 201));
      } else {
        change(RDS, weightIs(app, setup * 100), app, () -> setWeight(app, setup));
      }
      weights[app] = setup;
      Thread.sleep(100);
      Map<String, Object> m = change(RDS, noCanaryWeight(app), app, adminPort > 0
          ? () -> admin("POST", flow + "/rollback", "", 200)
          : () -> setWeight(app, 0));
      weights[app] = 0;
      if (adminPort > 0) {
        // The flow must end (canary to 0, which these workloads do at once) before the app
        // takes another split or flow.
        m.put("flowPhaseAfter", awaitFlowEnd(flow));
      }
      runs.add(m);
      Thread.sleep(100);
    }
    return scenario(runs);
  }

  String awaitFlowEnd(String flow) throws Exception {
    String phase = "";
    for (int i = 0; i < 100; i++) {
      String body = admin("GET", flow, null, 200);
      Matcher m = Pattern.compile("\"phase\"\\s*:\\s*\"([^\"]+)\"").matcher(body);
      phase = m.find() ? m.group(1) : "?";
      if (Set.of("test-ended", "rolled-back", "completed", "aborted", "TEST_ENDED",
          "ROLLED_BACK", "COMPLETED", "ABORTED").contains(phase)) {
        return phase;
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException(flow + " did not end after its rollback: phase " + phase);
  }

  String admin(String method, String path, String body, int expect) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort
        + path)).header("Content-Type", "application/json");
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofString(body));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != expect) {
      throw new IllegalStateException(method + " " + path + " -> " + r.statusCode() + " "
          + r.body());
    }
    return r.body();
  }

  /** A route configuration whose virtual host for {@code app} gives the canary no weight. */
  static Predicate<DiscoveryResponse> noCanaryWeight(int app) {
    ByteString vhost = ByteString.copyFromUtf8("bench/app-" + app);
    String canary = "bench/app-" + app + "/canary";
    return response -> {
      for (Any any : response.getResourcesList()) {
        try {
          VirtualHost vh = virtualHost(any.getValue(), vhost);
          if (vh == null) {
            continue;
          }
          for (var route : vh.getRoutesList()) {
            if (route.getRoute().getCluster().equals(canary)) {
              return false;
            }
            for (WeightedCluster.ClusterWeight cw :
                route.getRoute().getWeightedClusters().getClustersList()) {
              if (cw.getName().equals(canary) && cw.getWeight().getValue() > 0) {
                return false;
              }
            }
          }
          return true;
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }
      return false;
    };
  }

  /** Closes the proxies from {@code n} on (their TCP connections too). */
  void disconnectDownTo(int n) throws Exception {
    for (int i = proxies.size() - 1; i >= n; i--) {
      proxies.get(i).close();
      proxies.remove(i);
    }
    Thread.sleep(2000);
  }

  /** This JVM's own state: heap after GC and open file descriptors (where to look if it saturates). */
  static Map<String, Object> clientStats() {
    System.gc();
    Runtime rt = Runtime.getRuntime();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("heapUsedBytes", rt.totalMemory() - rt.freeMemory());
    m.put("heapMaxBytes", rt.maxMemory());
    String[] fds = new java.io.File("/proc/self/fd").list();
    m.put("openFds", fds == null ? -1 : fds.length);
    m.put("threads", Thread.activeCount());
    return m;
  }

  /** The rows of the i-th of {@code rounds} shares of {@code total} repetitions. */
  static int share(int total, int rounds, int round) {
    return (int) ((long) total * round / rounds);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> pooled(List<Map<String, Object>> rounds, String key) {
    List<Map<String, Object>> runs = new ArrayList<>();
    for (Map<String, Object> r : rounds) {
      Map<String, Object> s = (Map<String, Object>) r.get(key);
      if (s != null) {
        runs.addAll((List<Map<String, Object>>) s.get("runs"));
      }
    }
    return scenario(runs);
  }

  /**
   * Usage: {@code Harness <out.json> <apps> <server>:<xdsPort>:<ctlPort>:<adminPort|0> ...}.
   * Every server is connected and warmed up first, then the measured repetitions run in
   * rounds: round 1 of each server in the order given, round 2 of each, and so on, each round
   * with its share of the repetitions. Machine load that changes during the run then falls on
   * every server's rounds rather than on whichever server happened to run at that time.
   */
  public static void main(String[] args) throws Exception {
    Path outFile = Path.of(args[0]);
    int apps = Integer.parseInt(args[1]);
    List<Harness> servers = new ArrayList<>();
    for (int i = 2; i < args.length; i++) {
      String[] f = args[i].split(":");
      servers.add(new Harness(f[0], Integer.parseInt(f[1]), Integer.parseInt(f[2]),
          Integer.parseInt(f[3]), apps));
    }
    int n1 = Integer.getInteger("bench.n1", 1000);
    int n2 = Integer.getInteger("bench.n2", 5000);
    int rounds = Math.max(1, Integer.getInteger("bench.rounds", 3));
    int warm = Integer.getInteger("bench.warmup", 80);
    int weightReps = Integer.getInteger("bench.weightReps", 20);
    int weightReps2 = Integer.getInteger("bench.weightReps2", 10);
    int churnReps = Integer.getInteger("bench.churnReps", 20);
    int stormReps = Integer.getInteger("bench.stormReps", 3);
    int rollbackReps = Integer.getInteger("bench.rollbackReps", 0);
    int rollbackWarm = rollbackReps > 0 ? Integer.getInteger("bench.rollbackWarmup", 20) : 0;
    long started = System.nanoTime();

    Map<String, Map<String, Object>> results = new LinkedHashMap<>();
    Map<String, List<Map<String, Object>>> perRound = new LinkedHashMap<>();
    for (Harness h : servers) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("server", h.name);
      result.put("apps", h.apps);
      result.put("grpcShare", h.grpcShare);
      result.put("sidecarScope", sidecarScope);
      Map<String, Object> idle = h.stats();
      result.put("idle", idle);
      log(h.name + ": connecting " + n1);
      result.put("connectMs_" + n1, h.connect(n1));
      Thread.sleep(2000);
      result.put("steady_" + n1, h.steadyState(idle, n1));
      results.put(h.name, result);
      perRound.put(h.name, new ArrayList<>());
    }
    Map<String, Object> client = new LinkedHashMap<>();
    client.put("connected_" + n1, clientStats());
    // Warm-up (not reported), every server before any is measured: lets the JITs of the
    // servers and of this harness compile the push paths.
    for (Harness h : servers) {
      log(h.name + ": warm-up x" + warm);
      h.weightScenario(0, warm, 40);
      h.churnScenario(0, warm, 200);
      if (rollbackWarm > 0) {
        // The flow path (REST, engine, flow file) is not on the weight and churn paths.
        log(h.name + ": rollback warm-up x" + rollbackWarm);
        h.rollbackScenario(rollbackReps, rollbackReps + rollbackWarm);
      }
    }
    for (int r = 0; r < rounds; r++) {
      for (Harness h : servers) {
        Map<String, Object> round = new LinkedHashMap<>();
        round.put("round", r + 1);
        int w0 = share(weightReps, rounds, r);
        int w1 = share(weightReps, rounds, r + 1);
        log(h.name + ": round " + (r + 1) + "/" + rounds + ": weight x" + (w1 - w0));
        round.put("weight_" + n1, h.weightScenario(w0, w1, 0));
        int c0 = share(churnReps, rounds, r);
        int c1 = share(churnReps, rounds, r + 1);
        log(h.name + ": round " + (r + 1) + ": churn x" + (c1 - c0));
        round.put("churn_" + n1, h.churnScenario(c0, c1, 0));
        int rb0 = share(rollbackReps, rounds, r);
        int rb1 = share(rollbackReps, rounds, r + 1);
        if (rb1 > rb0) {
          log(h.name + ": round " + (r + 1) + ": rollback x" + (rb1 - rb0));
          round.put("rollback_" + n1, h.rollbackScenario(rb0, rb1));
        }
        int s = share(stormReps, rounds, r + 1) - share(stormReps, rounds, r);
        if (s > 0) {
          log(h.name + ": round " + (r + 1) + ": storm x" + s);
          round.put("storm_" + n1, h.stormScenario(s));
        }
        perRound.get(h.name).add(round);
      }
    }
    if (n2 > n1) {
      for (int r = 0; r < rounds; r++) {
        for (Harness h : servers) {
          Map<String, Object> round = perRound.get(h.name).get(r);
          log(h.name + ": round " + (r + 1) + ": connecting up to " + n2);
          round.put("connectMs_" + n2, h.connect(n2));
          Thread.sleep(3000);
          round.put("steady_" + n2, h.steadyState((Map<String, Object>) results.get(h.name)
              .get("idle"), n2));
          if (r == 0) {
            client.put("connected_" + n2 + "_" + h.name, clientStats());
          }
          int w0 = share(weightReps2, rounds, r);
          int w1 = share(weightReps2, rounds, r + 1);
          log(h.name + ": round " + (r + 1) + ": weight x" + (w1 - w0) + " at " + n2);
          round.put("weight_" + n2, h.weightScenario(w0, w1, 25));
          h.disconnectDownTo(n1);
        }
      }
    }
    for (Harness h : servers) {
      Map<String, Object> result = results.get(h.name);
      List<Map<String, Object>> rs = perRound.get(h.name);
      result.put("weight_" + n1, pooled(rs, "weight_" + n1));
      result.put("churn_" + n1, pooled(rs, "churn_" + n1));
      if (rollbackReps > 0) {
        result.put("rollback_" + n1, pooled(rs, "rollback_" + n1));
      }
      List<Double> storms = new ArrayList<>();
      List<Double> stormCpu = new ArrayList<>();
      for (Map<String, Object> round : rs) {
        Map<String, Object> st = (Map<String, Object>) round.get("storm_" + n1);
        if (st != null) {
          storms.addAll((List<Double>) st.get("ms"));
          stormCpu.addAll((List<Double>) st.get("serverCpuMs"));
        }
      }
      result.put("storm_" + n1, stormResult(storms, stormCpu));
      if (n2 > n1) {
        result.put("weight_" + n2, pooled(rs, "weight_" + n2));
        result.put("connectMs_" + n2, rs.get(0).get("connectMs_" + n2));
        result.put("steady_" + n2, rs.get(0).get("steady_" + n2));
      }
      result.put("rounds", rs);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("apps", apps);
    out.put("rounds", rounds);
    out.put("order", servers.stream().map(h -> h.name).toList());
    out.put("harnessSeconds", (System.nanoTime() - started) / 1e9);
    out.put("client", client);
    out.put("servers", results);
    Files.writeString(outFile, Json.write(out), StandardCharsets.UTF_8);
    log("done -> " + outFile);
    stopping = true;
    System.exit(0);
  }

  static void log(String s) {
    System.out.println(java.time.LocalTime.now() + " " + s);
  }
}
