package dev.steelyard.bench;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.WireFormat;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
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
 * Envoy-like proxies subscribe CDS (wildcard) -> EDS (all clusters) -> LDS (wildcard) -> RDS;
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

  static volatile Expectation expect;
  /** Proxies that have ACKed all four types on their current stream. */
  static final AtomicInteger complete = new AtomicInteger();
  static volatile CountDownLatch allComplete = new CountDownLatch(0);

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

    Proxy(int id, boolean sidecar, int app) {
      this.id = id;
      this.sidecar = sidecar;
      this.app = app;
      node = Node.newBuilder().setId("proxy-" + id).setCluster("bench")
          .setUserAgentName(sidecar ? "envoy" : "grpc-java-bench")
          .setMetadata(Struct.newBuilder()
              .putFields("steelyard.kind",
                  Value.newBuilder().setStringValue(sidecar ? "sidecar" : "grpc").build())
              .putFields("steelyard.app",
                  Value.newBuilder().setStringValue("client-" + app).build()))
          .build();
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
              if (gen == generation && !stopping
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
        default -> 0;
      };
      if ((ackedTypes & bit) == 0) {
        ackedTypes |= bit;
        // First response of a type: subscribe to the next one, as the real clients do.
        if (sidecar) {
          if (type.equals(CDS)) {
            request(EDS, allClusters, "", "");
          } else if (type.equals(EDS)) {
            request(LDS, List.of(), "", "");
          } else if (type.equals(LDS)) {
            request(RDS, List.of("steelyard_sidecar_outbound"), "", "");
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
        if (ackedTypes == 15) {
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
  final List<String> allClusters = new ArrayList<>();
  final EventLoopGroup group = new NioEventLoopGroup(2);
  final List<Proxy> proxies = new ArrayList<>();
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  volatile boolean stopping;
  final double grpcShare = Double.parseDouble(System.getProperty("bench.grpcShare", "0.5"));

  Harness(String name, int xdsPort, int ctlPort, int adminPort, int apps) {
    this.name = name;
    this.xdsPort = xdsPort;
    this.ctlPort = ctlPort;
    this.adminPort = adminPort;
    this.apps = apps;
    for (int a = 0; a < apps; a++) {
      for (String role : List.of("main", "baseline", "canary")) {
        allClusters.add("bench/app-" + a + "/" + role);
      }
    }
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
    if (!allComplete.await(90, TimeUnit.SECONDS)) {
      throw new IllegalStateException("connect: " + allComplete.getCount() + " never complete");
    }
    return (System.nanoTime() - t0) / 1e6;
  }

  double storm() throws Exception {
    allComplete = new CountDownLatch(proxies.size());
    long t0 = System.nanoTime();
    for (Proxy p : proxies) {
      p.reopen();
    }
    if (!allComplete.await(90, TimeUnit.SECONDS)) {
      throw new IllegalStateException("storm: " + allComplete.getCount() + " never complete");
    }
    return (System.nanoTime() - t0) / 1e6;
  }

  boolean[] needs(int app) {
    boolean[] needs = new boolean[proxies.size()];
    for (Proxy p : proxies) {
      needs[p.id] = p.sidecar || p.app == app;
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

  Map<String, Object> weightScenario(int reps, int offset) throws Exception {
    List<Map<String, Object>> runs = new ArrayList<>();
    for (int r = 0; r < reps; r++) {
      int app = (offset + r) % apps;
      int percent = 1 + (offset + r) % 49;
      runs.add(change(RDS, weightIs(app, percent * 100), app, () -> setWeight(app, percent)));
      Thread.sleep(100);
    }
    return Map.of("summary", summary(runs), "runs", runs);
  }

  Map<String, Object> churnScenario(int reps, int genOffset) throws Exception {
    List<Map<String, Object>> runs = new ArrayList<>();
    for (int r = 0; r < reps; r++) {
      int app = (r * 7 + 3) % apps;
      int gen = genOffset + r + 1;
      runs.add(change(EDS, containsIp(Fleet.churnIp(gen)), app,
          () -> get("/churn?app=" + app + "&gen=" + gen)));
      Thread.sleep(100);
    }
    return Map.of("summary", summary(runs), "runs", runs);
  }

  public static void main(String[] args) throws Exception {
    Harness h = new Harness(args[0], Integer.parseInt(args[1]), Integer.parseInt(args[2]),
        Integer.parseInt(args[3]), Integer.parseInt(args[4]));
    Path outFile = Path.of(args[5]);
    int n1 = Integer.getInteger("bench.n1", 1000);
    int n2 = Integer.getInteger("bench.n2", 5000);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("server", h.name);
    result.put("apps", h.apps);
    result.put("grpcShare", h.grpcShare);
    Map<String, Object> idle = h.stats();
    result.put("idle", idle);
    log(h.name + ": connecting " + n1);
    result.put("connectMs_" + n1, h.connect(n1));
    Thread.sleep(2000);
    result.put("steady_" + n1, h.steadyState(idle, n1));
    // Warm-up (not reported): lets the JITs of server and client compile the push paths.
    int warm = Integer.getInteger("bench.warmup", 80);
    log(h.name + ": warm-up x" + warm);
    h.weightScenario(warm, 40);
    h.churnScenario(warm, 200);
    log(h.name + ": weight x" + Integer.getInteger("bench.weightReps", 20));
    result.put("weight_" + n1, h.weightScenario(Integer.getInteger("bench.weightReps", 20), 0));
    log(h.name + ": churn");
    result.put("churn_" + n1, h.churnScenario(Integer.getInteger("bench.churnReps", 20), 0));
    log(h.name + ": storm");
    List<Double> storms = new ArrayList<>();
    List<Double> stormCpu = new ArrayList<>();
    for (int r = 0; r < Integer.getInteger("bench.stormReps", 3); r++) {
      long c0 = h.cpu();
      storms.add(h.storm());
      stormCpu.add((h.cpu() - c0) / 1e6);
      Thread.sleep(1500);
    }
    result.put("storm_" + n1, Map.of("ms", storms, "serverCpuMs", stormCpu,
        "p50", pct(storms, 50), "max", pct(storms, 100)));
    if (n2 > n1) {
      log(h.name + ": connecting up to " + n2);
      result.put("connectMs_" + n2, h.connect(n2));
      Thread.sleep(3000);
      result.put("steady_" + n2, h.steadyState(idle, n2));
      log(h.name + ": weight x" + Integer.getInteger("bench.weightReps2", 10) + " at " + n2);
      result.put("weight_" + n2,
          h.weightScenario(Integer.getInteger("bench.weightReps2", 10), 25));
    }
    Files.writeString(outFile, Json.write(result), StandardCharsets.UTF_8);
    log(h.name + ": done -> " + outFile);
    h.stopping = true;
    System.exit(0);
  }

  static void log(String s) {
    System.out.println(java.time.LocalTime.now() + " " + s);
  }
}
