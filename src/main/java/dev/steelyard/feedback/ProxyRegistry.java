package dev.steelyard.feedback;

import dev.steelyard.publish.AppliedCheck;
import dev.steelyard.publish.NamedVersionSnapshot;
import dev.steelyard.publish.PublishedState;
import dev.steelyard.publish.RequestedNames;
import dev.steelyard.publish.StreamAwareWatcher;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.xds.LogText;
import dev.steelyard.net.RateLimitedLog;
import dev.steelyard.xds.XdsLimits;
import dev.steelyard.xds.XdsPeer;
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
import java.util.Collection;
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
    final Node node;
    final ProxyKind kind;
    final XdsPeer peer;
    final XdsPeer.Reading reading;
    final Map<String, Sent> lastSent = new ConcurrentHashMap<>();
    final Map<String, String> acked = new ConcurrentHashMap<>();
    /** The resource names of each ACK: named requests are versioned by what they name. */
    final Map<String, RequestedNames> ackedNames = new ConcurrentHashMap<>();
    volatile Nack lastNack;
    /** The NACK last written to the log, and when: a repeat within a minute is not. */
    Nack lastLoggedNack;
    /**
     * The next EDS response must carry every assignment: none was made on this stream yet,
     * or a CDS response was made after the last one (see StreamAwareWatcher).
     */
    final AtomicBoolean wholeEndpointsNext = new AtomicBoolean(true);

    StreamState(long id, Node node, ProxyKind kind, XdsPeer peer, XdsPeer.Reading reading) {
      this.id = id;
      this.reading = reading;
      this.node = node;
      this.kind = kind;
      this.peer = peer;
    }
  }

  private static final RequestedNames WILDCARD = RequestedNames.of(List.of());

  /** What a NACK's message may occupy in the admin API; the log takes less. */
  private static final int MAX_NACK_CHARS = 4096;
  private static final int MAX_LOGGED_NACK_CHARS = 400;
  private static final Set<String> SERVED_TYPES = Set.of(Resources.V3.CLUSTER_TYPE_URL,
      Resources.V3.ENDPOINT_TYPE_URL, Resources.V3.LISTENER_TYPE_URL,
      Resources.V3.ROUTE_TYPE_URL);

  /**
   * Streams that sent a valid first request. A stream is entered only then, so one refused or
   * dropped before it (by java-control-plane, which does not report such closes) leaves nothing.
   */
  private final Map<Long, StreamState> streams = new ConcurrentHashMap<>();
  private final StreamAwareWatcher watcher;
  private final XdsLimits limits;
  private final Counter nacks;
  private final RateLimitedLog nackLog = new RateLimitedLog(log, 60);
  private final RateLimitedLog refusals = new RateLimitedLog(log, 10);

  public ProxyRegistry(StreamAwareWatcher watcher, XdsLimits limits, MeterRegistry meters) {
    this.watcher = watcher;
    this.limits = limits;
    this.nacks = Counter.builder("steelyard_xds_nacks_total").register(meters);
    Gauge.builder("steelyard_xds_streams", streams, Map::size).register(meters);
  }

  @Override
  public void onStreamOpen(long streamId, String typeUrl) {
    // Entered with its first valid request (see streams).
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
    StreamState stream = streams.get(streamId);
    try {
      checkLimits(request);
      if (stream == null) {
        stream = firstRequest(streamId, request);
      }
    } catch (RequestException e) {
      // java-control-plane closes the stream without telling the callbacks.
      streams.remove(streamId);
      refusals.warn("refused an xDS stream{}: {}", stream == null ? ""
          : " of " + LogText.of(nodeId(stream), 100),
          LogText.of(String.valueOf(e.getStatus().getDescription()), 300));
      throw e;
    }
    String type = shortType(request.getTypeUrl());
    RequestedNames names = RequestedNames.of(request.getResourceNamesList());
    Sent sent = stream.lastSent.get(type);
    boolean answersLastResponse = sent != null && sent.nonce().equals(request.getResponseNonce());
    if (answersLastResponse && request.hasErrorDetail()) {
      String message = request.getErrorDetail().getMessage();
      Nack nack = new Nack(type, sent.version(), message.length() <= MAX_NACK_CHARS ? message
          : message.substring(0, MAX_NACK_CHARS) + "... (" + message.length() + " chars)",
          Instant.now());
      stream.lastNack = nack;
      nacks.increment();
      watcher.prepareNack(request, stream.node, names, sent.version(),
          Set.copyOf(sent.names()), stream.wholeEndpointsNext);
      logNack(stream, nack);
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

  /** Refuses a request beyond {@link XdsLimits}, or of a type steelyard does not serve. */
  private void checkLimits(DiscoveryRequest request) throws RequestException {
    if (!SERVED_TYPES.contains(request.getTypeUrl())) {
      throw refused("steelyard serves clusters, endpoints, listeners and routes over ADS, not "
          + "type \"" + LogText.of(request.getTypeUrl(), 100) + "\"");
    }
    int names = request.getResourceNamesCount();
    if (names > limits.maxNamesPerRequest()) {
      throw refused("a request of " + names + " resource names; at most "
          + limits.maxNamesPerRequest() + " are served in one request");
    }
  }

  /** The stream's entry, from a first request that must carry a node within the limits. */
  private StreamState firstRequest(long streamId, DiscoveryRequest request)
      throws RequestException {
    if (!request.hasNode()) {
      throw refused("the first request on a stream must carry the node");
    }
    Node node = request.getNode();
    int idBytes = node.getIdBytes().size();
    if (idBytes > limits.maxNodeIdBytes() || node.getClusterBytes().size()
        > limits.maxNodeIdBytes()) {
      throw refused("the node id and node cluster may have at most " + limits.maxNodeIdBytes()
          + " bytes each; this node id has " + idBytes);
    }
    // Envoy lists its extensions in the node (tens of KB); nothing here reads them.
    Node kept = node.toBuilder().clearExtensions().clearClientFeatures()
        .clearListeningAddresses().clearDynamicParameters().build();
    if (node.getMetadata().getSerializedSize() > limits.maxNodeMetadataBytes()) {
      throw refused("the node's metadata may have at most " + limits.maxNodeMetadataBytes()
          + " bytes; it has " + node.getMetadata().getSerializedSize());
    }
    // What else is kept (user agent, locality) is small in any real node.
    int keptLimit = 2 * limits.maxNodeIdBytes() + limits.maxNodeMetadataBytes() + 4096;
    if (kept.getSerializedSize() > keptLimit) {
      throw refused("the node without its extensions may have at most " + keptLimit
          + " bytes; it has " + kept.getSerializedSize());
    }
    ProxyKind kind;
    try {
      kind = ProxyKind.of(kept);
    } catch (IllegalArgumentException e) {
      throw refused(e.getMessage());
    }
    XdsPeer peer = XdsPeer.current();
    if (peer.method().equals("certificate")
        && !List.of(peer.identity().split(",")).contains(node.getId())) {
      // As Istio binds a proxy to its certificate: a certificate speaks for one node only.
      throw new RequestException(Status.PERMISSION_DENIED.withDescription("node id \""
          + LogText.of(node.getId(), 100) + "\" is not a name of the client certificate ("
          + LogText.of(peer.identity(), 200) + ")"));
    }
    StreamState stream = new StreamState(streamId, kept, kind, peer, XdsPeer.currentReading());
    streams.put(streamId, stream);
    return stream;
  }

  private static RequestException refused(String reason) {
    return new RequestException(Status.INVALID_ARGUMENT.withDescription(reason));
  }

  /**
   * One line per NACK, escaped and cut short, and not again for a repeat of the same NACK
   * within a minute: a proxy that rejects a version says so once, not once per retry.
   */
  private void logNack(StreamState stream, Nack nack) {
    synchronized (stream) {
      Nack last = stream.lastLoggedNack;
      if (last != null && last.type().equals(nack.type())
          && last.rejectedVersion().equals(nack.rejectedVersion())
          && last.message().equals(nack.message())
          && last.at().plusSeconds(60).isAfter(nack.at())) {
        return;
      }
      stream.lastLoggedNack = nack;
    }
    nackLog.warn("{} ({}) rejected {} version {}: {}", LogText.of(nodeId(stream), 200),
        stream.kind, nack.type(), nack.rejectedVersion(),
        LogText.of(nack.message(), MAX_LOGGED_NACK_CHARS));
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

  /**
   * Connected proxies, one per node id, sorted by it. Streams that share a node id are one
   * proxy, shown by its newest stream: a reconnecting proxy's old stream may linger until its
   * connection times out, and clients reusing one id must not count as many proxies.
   */
  public List<ProxyStatus> proxies() {
    Map<String, Integer> streamsPerNode = new HashMap<>();
    for (StreamState stream : streams.values()) {
      streamsPerNode.merge(stream.node.getId(), 1, Integer::sum);
    }
    List<ProxyStatus> proxies = new ArrayList<>();
    for (StreamState stream : newestPerNode()) {
      Node node = stream.node;
      var app = node.getMetadata().getFieldsMap().get(ProxyKind.APP_METADATA_KEY);
      proxies.add(new ProxyStatus(stream.id, node.getId(), node.getCluster(), stream.kind,
          app == null ? "" : app.getStringValue(), node.getUserAgentName(),
          Map.copyOf(stream.acked), ackedNames(stream),
          Optional.ofNullable(stream.lastNack), stream.openedAt, stream.peer,
          streamsPerNode.getOrDefault(node.getId(), 1)));
    }
    proxies.sort(Comparator.comparing(ProxyStatus::nodeId));
    return proxies;
  }

  /** The newest stream of each node id. */
  private Collection<StreamState> newestPerNode() {
    Map<String, StreamState> newest = new HashMap<>();
    for (StreamState stream : streams.values()) {
      newest.merge(stream.node.getId(), stream, (a, b) -> a.id > b.id ? a : b);
    }
    return newest.values();
  }

  /** Per proxy kind: proxies (node ids), and how many ACKed what is published now. */
  public record Progress(int connected, int applied) {}

  /**
   * How far the published routes have reached, per proxy kind, one count per node id. The
   * admin API answers every weight change with this while the push is still going out, so it
   * does not build a status per proxy as {@link #proxies} does.
   */
  public Map<ProxyKind, Progress> routesProgress(PublishedState published) {
    Map<ProxyKind, int[]> counts = new java.util.EnumMap<>(ProxyKind.class);
    for (StreamState stream : newestPerNode()) {
      int[] count = counts.computeIfAbsent(stream.kind, k -> new int[2]);
      count[0]++;
      if (ProxyStatus.applied(published, stream.kind, "routes", stream.acked.get("routes"),
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
    for (StreamState stream : newestPerNode()) {
      // A client that is not reading what it was sent cannot apply anything new: waiting for
      // it would only hold every change back by the stage timeout.
      if (stream.kind != kind || !stream.reading.reading() || applied(stream, snapshot)) {
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
    return stream.node.getId();
  }
}
