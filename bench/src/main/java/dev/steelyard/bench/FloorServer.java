package dev.steelyard.bench;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.MeshViewComposer;
import dev.steelyard.split.SplitMode;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.translate.MeshTranslator;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.ProxyResources;
import dev.steelyard.translate.ResourceNames;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.MeshView;
import dev.steelyard.xds.XdsType;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The transport floor: a bare ADS stream service with no cache and no watches. It answers each
 * subscription once with pre-serialized bytes, keeps its streams in a set and, on a change,
 * writes one pre-serialized response (the same bytes Steelyard's translator produces) to exactly
 * the streams whose subscription contains a changed resource, then counts ACKs. Endpoint
 * responses on a change carry the changed assignments only, as Steelyard's do.
 */
final class FloorServer {

  private static final class Stream {
    final ServerCallStreamObserver<byte[]> out;
    volatile ProxyKind kind;
    /** The sidecar's declared scope ({@link Scope}); "" for none and for gRPC proxies. */
    volatile String calls = "";
    final Map<String, List<String>> subs = new ConcurrentHashMap<>();

    Stream(ServerCallStreamObserver<byte[]> out) {
      this.out = out;
    }

    synchronized void send(byte[] bytes) {
      if (!out.isCancelled()) {
        out.onNext(bytes);
      }
    }
  }

  private static final class BytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private final Fleet fleet;
  private final Set<Stream> streams = ConcurrentHashMap.newKeySet();
  private final Map<AppKey, AppSplits> splits = new TreeMap<>();
  private final AtomicLong acks = new AtomicLong();
  private volatile long generation = 1;
  private volatile Map<ProxyKind, ProxyResources> resources;
  /** Scoped sidecar resources, by scope, of the resources they were filtered from. */
  private volatile Scoped scoped = new Scoped(Map.of(), new ConcurrentHashMap<>());

  private record Scoped(Map<ProxyKind, ProxyResources> of, Map<String, ProxyResources> byCalls) {}
  /** Serialized responses by kind, type, names and generation: built once, sent to many. */
  private final Map<String, byte[]> responses = new ConcurrentHashMap<>();

  private FloorServer(Fleet fleet) {
    this.fleet = fleet;
    this.resources = translate();
  }

  static BenchServer.Target start(Fleet fleet, int port) throws IOException {
    FloorServer floor = new FloorServer(fleet);
    fleet.onChange(floor::endpointsChanged);
    MethodDescriptor<DiscoveryRequest, byte[]> method =
        MethodDescriptor.<DiscoveryRequest, byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
            .setFullMethodName(AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod()
                .getFullMethodName())
            .setRequestMarshaller(ProtoUtils.marshaller(DiscoveryRequest.getDefaultInstance()))
            .setResponseMarshaller(new BytesMarshaller())
            .build();
    ServerServiceDefinition service = ServerServiceDefinition
        .builder(AggregatedDiscoveryServiceGrpc.SERVICE_NAME)
        .addMethod(method, ServerCalls.asyncBidiStreamingCall(floor::open))
        .build();
    // On the event loop, as SteelyardServer serves its streams: the floor must not
    // pay a thread handoff per message that the server it bounds does not.
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
        .addService(service).directExecutor().build().start();
    return floor.new Target();
  }

  final class Target implements BenchServer.Target {
    @Override
    public void weight(int app, int percent) {
      synchronized (splits) {
        splits.put(Fleet.key(app), new AppSplits(BenchServer.policy(percent), Optional.empty()));
      }
      routesChanged(app);
    }

    @Override
    public String extraStats() {
      return ",\"acks\":" + acks.get() + ",\"streams\":" + streams.size();
    }
  }

  private Map<ProxyKind, ProxyResources> translate() {
    MeshView view;
    synchronized (splits) {
      view = MeshViewComposer.compose(fleet.apps(), splits);
    }
    Map<ProxyKind, ProxyResources> out = new HashMap<>();
    for (ProxyKind kind : List.of(ProxyKind.SIDECAR, ProxyKind.GRPC)) {
      out.put(kind, MeshTranslator.translate(view, kind, BenchServer.SETTINGS));
    }
    return out;
  }

  private StreamObserver<DiscoveryRequest> open(StreamObserver<byte[]> observer) {
    Stream stream = new Stream((ServerCallStreamObserver<byte[]>) observer);
    streams.add(stream);
    return new StreamObserver<>() {
      @Override
      public void onNext(DiscoveryRequest request) {
        if (stream.kind == null) {
          stream.calls = ProxyKind.of(request.getNode()) == ProxyKind.SIDECAR
              ? Scope.calls(request.getNode()) : "";
          stream.kind = ProxyKind.of(request.getNode());
        }
        if (request.hasErrorDetail()) {
          return;
        }
        List<String> names = List.copyOf(request.getResourceNamesList());
        List<String> before = stream.subs.put(request.getTypeUrl(), names);
        if (request.getResponseNonce().isEmpty() || !names.equals(before)) {
          stream.send(response(stream.kind, stream.calls, request.getTypeUrl(), names));
        } else {
          acks.incrementAndGet();
        }
      }

      @Override
      public void onError(Throwable t) {
        streams.remove(stream);
      }

      @Override
      public void onCompleted() {
        streams.remove(stream);
        observer.onCompleted();
      }
    };
  }

  private void routesChanged(int app) {
    setResources(translate());
    generation++;
    changedApp = Fleet.key(app).toString();
    push(Resources.V3.ROUTE_TYPE_URL, Fleet.key(app).toString());
  }

  private volatile String changedApp = "";

  private void setResources(Map<ProxyKind, ProxyResources> r) {
    resources = r;
  }

  private ProxyResources resources(ProxyKind kind, String calls) {
    Map<ProxyKind, ProxyResources> now = resources;
    ProxyResources all = now.get(kind);
    if (calls.isEmpty()) {
      return all;
    }
    Scoped s = scoped;
    if (s.of() != now) {
      s = new Scoped(now, new ConcurrentHashMap<>());
      scoped = s;
    }
    return s.byCalls().computeIfAbsent(calls, c -> Scope.filter(all, c));
  }

  private void endpointsChanged() {
    Map<ProxyKind, ProxyResources> after = translate();
    Map<String, ClusterLoadAssignment> old = new HashMap<>();
    for (ClusterLoadAssignment a : resources.get(ProxyKind.SIDECAR).endpoints()) {
      old.put(a.getClusterName(), a);
    }
    Set<String> changed = new java.util.HashSet<>();
    for (ClusterLoadAssignment a : after.get(ProxyKind.SIDECAR).endpoints()) {
      if (!a.equals(old.get(a.getClusterName()))) {
        changed.add(a.getClusterName());
      }
    }
    changedEndpoints = changed;
    setResources(after);
    generation++;
    push(Resources.V3.ENDPOINT_TYPE_URL, null);
  }

  /**
   * Sends the current response of {@code type} to every stream that subscribed to a changed
   * resource: for routes of {@code app}, the shared sidecar route config (to the sidecars whose
   * scope has the app) or the app's own (with per-app routes, to the sidecars that subscribe to
   * it, alone) and its gRPC one; for endpoints, the changed assignments (compared by content with
   * the previous generation) to the streams that subscribe to them.
   */
  private void push(String type, String app) {
    for (Stream stream : streams) {
      List<String> names = stream.subs.get(type);
      if (names == null || stream.kind == null) {
        continue;
      }
      if (type.equals(Resources.V3.ROUTE_TYPE_URL)) {
        String own = (stream.kind == ProxyKind.SIDECAR ? "sidecar/" : "grpc/") + app;
        if (names.contains(own)) {
          // The app's own route configuration (a gRPC client's, or a sidecar's with per-app
          // routes), alone: a state-of-the-world RDS client keeps the ones a response leaves
          // out, as it does assignments.
          stream.send(response(stream.kind, stream.calls, type, List.of(own)));
        } else if (stream.kind == ProxyKind.SIDECAR && names.contains(ResourceNames.SIDECAR_ROUTES)
            && Scope.includes(stream.calls, changedApp)) {
          stream.send(response(stream.kind, stream.calls, type, names));
        }
      } else {
        // Like Steelyard: a state-of-the-world EDS client keeps the assignments a response
        // leaves out, so only the changed ones are sent.
        List<String> changed = names.stream().filter(changedEndpoints::contains).toList();
        if (!changed.isEmpty()) {
          stream.send(response(stream.kind, stream.calls, type, changed));
        }
      }
    }
  }

  private volatile Set<String> changedEndpoints = Set.of();

  private byte[] response(ProxyKind kind, String calls, String type, List<String> names) {
    long gen = generation;
    String key = kind + "|" + calls + "|" + type + "|" + names + "|" + gen;
    return responses.computeIfAbsent(key, k -> {
      ProxyResources r = resources(kind, calls);
      List<? extends Message> all = switch (type) {
        case Resources.V3.CLUSTER_TYPE_URL -> r.clusters();
        case Resources.V3.ENDPOINT_TYPE_URL -> r.endpoints();
        case Resources.V3.LISTENER_TYPE_URL -> r.listeners();
        case Resources.V3.ROUTE_TYPE_URL -> r.routes();
        case Harness.SRDS -> r.scopedRoutes();
        default -> List.of();
      };
      DiscoveryResponse.Builder response = DiscoveryResponse.newBuilder()
          .setTypeUrl(type).setVersionInfo("g" + gen).setNonce("g" + gen);
      for (Message m : all) {
        if (names.isEmpty() || names.contains(XdsType.nameOf(m))) {
          response.addResources(Any.pack(m));
        }
      }
      return response.build().toByteArray();
    });
  }
}
