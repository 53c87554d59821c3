package dev.steelyard.feedback;

import dev.steelyard.publish.AppliedCheck;
import dev.steelyard.publish.NamedVersionSnapshot;
import dev.steelyard.publish.PublishedState;
import dev.steelyard.publish.RequestedNames;
import dev.steelyard.publish.StreamAwareWatcher;
import dev.steelyard.translate.ProxyKind;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.Resources.ResourceType;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.exception.RequestException;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every connected proxy has: its node, kind, the version it ACKed per resource type and its
 * last NACK. Fed by java-control-plane's stream callbacks; read by the admin API.
 */
public final class ProxyRegistry implements DiscoveryServerCallbacks, AppliedCheck {

  private static final Logger log = LoggerFactory.getLogger(ProxyRegistry.class);

  /**
   * A response sent on a stream, to match the proxy's ACK or NACK against by nonce. Its names
   * are the watch's request's, which shares them with every request naming the same
   * (RequestedNames): an Envoy's EDS request names every cluster.
   */
  private record Sent(String nonce, String version, List<String> names) {}

  private static final class StreamState {
    final long id;
    final Instant openedAt = Instant.now();
    volatile Node node;
    volatile ProxyKind kind;
    final Map<String, Sent> lastSent = new ConcurrentHashMap<>();
    final Map<String, String> acked = new ConcurrentHashMap<>();
    /** The resource names of each ACK: named requests are versioned by what they name. */
    final Map<String, RequestedNames> ackedNames = new ConcurrentHashMap<>();
    volatile Nack lastNack;
    /**
     * The next EDS response must carry every assignment: none was made on this stream yet,
     * or a CDS response was made after the last one (see StreamAwareWatcher).
     */
    final AtomicBoolean wholeEndpointsNext = new AtomicBoolean(true);

    StreamState(long id) {
      this.id = id;
    }
  }

  private static final RequestedNames WILDCARD = RequestedNames.of(List.of());

  private final Map<Long, StreamState> streams = new ConcurrentHashMap<>();
  private final StreamAwareWatcher watcher;
  private final Counter nacks;

  public ProxyRegistry(StreamAwareWatcher watcher, MeterRegistry meters) {
    this.watcher = watcher;
    this.nacks = Counter.builder("steelyard_xds_nacks_total").register(meters);
    Gauge.builder("steelyard_xds_streams", streams, Map::size).register(meters);
  }

  @Override
  public void onStreamOpen(long streamId, String typeUrl) {
    streams.put(streamId, new StreamState(streamId));
  }

  @Override
  public void onStreamClose(long streamId, String typeUrl) {
    streams.remove(streamId);
  }

  @Override
  public void onStreamCloseWithError(long streamId, String typeUrl, Throwable error) {
    streams.remove(streamId);
  }

  @Override
  public void onV3StreamRequest(long streamId, DiscoveryRequest request)
      throws RequestException {
    StreamState stream = streams.computeIfAbsent(streamId, StreamState::new);
    if (stream.node == null) {
      if (!request.hasNode()) {
        throw new RequestException(Status.INVALID_ARGUMENT.withDescription(
            "the first request on a stream must carry the node"));
      }
      try {
        stream.kind = ProxyKind.of(request.getNode());
      } catch (IllegalArgumentException e) {
        throw new RequestException(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
      }
      stream.node = request.getNode();
    }
    String type = shortType(request.getTypeUrl());
    RequestedNames names = RequestedNames.of(request.getResourceNamesList());
    Sent sent = stream.lastSent.get(type);
    boolean answersLastResponse = sent != null && sent.nonce().equals(request.getResponseNonce());
    if (answersLastResponse && request.hasErrorDetail()) {
      Nack nack = new Nack(type, sent.version(), request.getErrorDetail().getMessage(),
          Instant.now());
      stream.lastNack = nack;
      nacks.increment();
      watcher.prepareNack(request, stream.node, names, sent.version(),
          Set.copyOf(sent.names()), stream.wholeEndpointsNext);
      log.warn("{} ({}) rejected {} version {}: {}", nodeId(stream), stream.kind, type,
          sent.version(), nack.message());
      return;
    }
    // The first request of a type on a new stream says what the proxy already runs (from an
    // earlier stream, before a control plane restart or a reconnect): an unchanged version is
    // not sent again, so this is the only "ACK" such a proxy will give until the next change.
    boolean reportsWhatItRuns = sent == null && !request.hasErrorDetail()
        && !request.getVersionInfo().isEmpty();
    if (answersLastResponse || reportsWhatItRuns) {
      stream.ackedNames.put(type, names);
      stream.acked.put(type, request.getVersionInfo());
    }
    watcher.prepare(request, stream.node, names, stream.wholeEndpointsNext);
  }

  /**
   * Delta xDS is refused: java-control-plane ignores {@code initial_resource_versions}, so after
   * a control plane restart a delta client could keep resources that no longer exist.
   */
  @Override
  public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request)
      throws RequestException {
    throw new RequestException(Status.UNIMPLEMENTED.withDescription(
        "steelyard serves state-of-the-world xDS only (ADS api_type GRPC, not DELTA_GRPC)"));
  }

  @Override
  public void onV3StreamResponse(long streamId, DiscoveryRequest request,
      DiscoveryResponse response) {
    StreamState stream = streams.get(streamId);
    if (stream != null) {
      // The names the response answered, from the request rather than by unpacking every
      // resource (an Envoy's EDS response holds one per cluster); empty for a wildcard.
      stream.lastSent.put(shortType(response.getTypeUrl()), new Sent(response.getNonce(),
          response.getVersionInfo(), request.getResourceNamesList()));
    }
  }

  /** Connected proxies, one entry per stream that has sent its node, sorted by node id. */
  public List<ProxyStatus> proxies() {
    List<ProxyStatus> proxies = new ArrayList<>();
    for (StreamState stream : streams.values()) {
      Node node = stream.node;
      if (node == null) {
        continue;
      }
      var app = node.getMetadata().getFieldsMap().get(ProxyKind.APP_METADATA_KEY);
      proxies.add(new ProxyStatus(stream.id, node.getId(), node.getCluster(), stream.kind,
          app == null ? "" : app.getStringValue(), node.getUserAgentName(),
          Map.copyOf(stream.acked), ackedNames(stream),
          Optional.ofNullable(stream.lastNack), stream.openedAt));
    }
    proxies.sort(Comparator.comparing(ProxyStatus::nodeId)
        .thenComparingLong(ProxyStatus::streamId));
    return proxies;
  }

  /** Per proxy kind: streams that sent their node, and how many ACKed what is published now. */
  public record Progress(int connected, int applied) {}

  /**
   * How far the published routes have reached, per proxy kind. Counted in place: the admin API
   * answers every weight change with this while the push is still going out, so it must not
   * copy and sort a status per proxy as {@link #proxies} does.
   */
  public Map<ProxyKind, Progress> routesProgress(PublishedState published) {
    Map<ProxyKind, int[]> counts = new java.util.EnumMap<>(ProxyKind.class);
    for (StreamState stream : streams.values()) {
      ProxyKind kind = stream.kind;
      if (stream.node == null || kind == null) {
        continue;
      }
      int[] count = counts.computeIfAbsent(kind, k -> new int[2]);
      count[0]++;
      if (ProxyStatus.applied(published, kind, "routes", stream.acked.get("routes"),
          stream.ackedNames.getOrDefault("routes", WILDCARD))) {
        count[1]++;
      }
    }
    Map<ProxyKind, Progress> progress = new java.util.EnumMap<>(ProxyKind.class);
    counts.forEach((kind, count) -> progress.put(kind, new Progress(count[0], count[1])));
    return progress;
  }

  /**
   * A proxy has applied a snapshot when every type it was sent is ACKed at the snapshot's
   * version for the names it asked for. A proxy that takes all clusters (Envoy) must also have
   * asked for the endpoints of each: Envoy ACKs new clusters before their assignments arrive,
   * and a cluster without them answers 503.
   */
  @Override
  public List<String> lagging(ProxyKind kind, NamedVersionSnapshot snapshot) {
    List<String> lagging = new ArrayList<>();
    for (StreamState stream : streams.values()) {
      if (stream.node == null || stream.kind != kind || applied(stream, snapshot)) {
        continue;
      }
      lagging.add(nodeId(stream));
    }
    return lagging;
  }

  private static boolean applied(StreamState stream, NamedVersionSnapshot snapshot) {
    Nack nack = stream.lastNack;
    if (nack != null) {
      Sent sent = stream.lastSent.get(nack.type());
      if (sent != null && sent.version().equals(nack.rejectedVersion())) {
        // It rejected what it was sent last and keeps its previous config: waiting for it
        // would only cost every change the stage timeout.
        return true;
      }
    }
    for (String type : stream.lastSent.keySet()) {
      ResourceType resourceType = PublishedState.resourceType(type);
      if (resourceType == null) {
        continue;
      }
      String acked = stream.acked.get(type);
      RequestedNames names = stream.ackedNames.getOrDefault(type, WILDCARD);
      if (acked == null || !acked.equals(snapshot.version(resourceType, names))) {
        return false;
      }
    }
    RequestedNames clusters = stream.ackedNames.get("clusters");
    if (clusters != null && clusters.names().isEmpty()) {
      RequestedNames endpoints = stream.ackedNames.getOrDefault("endpoints", WILDCARD);
      Set<String> asked = endpoints.nameSet();
      for (String cluster : snapshot.clusters().resources().keySet()) {
        if (!asked.contains(cluster)) {
          return false;
        }
      }
    }
    return true;
  }

  private static Map<String, List<String>> ackedNames(StreamState stream) {
    Map<String, List<String>> names = new HashMap<>();
    stream.ackedNames.forEach((type, requested) -> names.put(type, requested.names()));
    return Map.copyOf(names);
  }

  /** Short names of the SotW types: clusters, endpoints, listeners, routes (or the type URL). */
  static String shortType(String typeUrl) {
    return switch (typeUrl) {
      case Resources.V3.CLUSTER_TYPE_URL -> "clusters";
      case Resources.V3.ENDPOINT_TYPE_URL -> "endpoints";
      case Resources.V3.LISTENER_TYPE_URL -> "listeners";
      case Resources.V3.ROUTE_TYPE_URL -> "routes";
      default -> typeUrl;
    };
  }

  private static String nodeId(StreamState stream) {
    return stream.node == null ? "stream " + stream.id : stream.node.getId();
  }
}
