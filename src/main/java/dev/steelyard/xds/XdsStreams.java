package dev.steelyard.xds;

import com.google.protobuf.Message;
import dev.steelyard.net.RateLimitedLog;
import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyScope;
import io.envoyproxy.controlplane.cache.ConfigWatcher;
import io.envoyproxy.controlplane.cache.DeltaResponse;
import io.envoyproxy.controlplane.cache.DeltaWatch;
import io.envoyproxy.controlplane.cache.DeltaXdsRequest;
import io.envoyproxy.controlplane.cache.Resources.ResourceType;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.XdsRequest;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The protocol state of every xDS stream, and what it adds to the cache ({@link IndexedCache}).
 * java-control-plane's stream observer calls {@link #onV3StreamRequest} and then, for a request
 * that answers the last response (or the first of its type), {@link #createWatch} with the same
 * request object. The first records the request's context on its stream; the second finds it
 * by that object, from any thread. Per stream:
 *
 * <ul>
 *   <li><b>Limits and the node.</b> A stream is entered with its first valid request, which
 *       must carry a node within {@link XdsLimits}; the node is kept once (Envoy with
 *       {@code set_node_on_first_message_only} sends it only then) and its kind and scope parsed once.
 *   <li><b>NACKs.</b> A NACK carries the last <em>accepted</em> version, so a cache sees a
 *       mismatch and sends the rejected snapshot again at once, thousands of times a second.
 *       Here a NACK is handed to the cache as if it carried the rejected version: the cache
 *       parks the watch until a newer snapshot exists, and the proxy keeps its last good config.
 *   <li><b>Unchanged endpoints and routes.</b> A state-of-the-world client keeps an EDS or RDS
 *       resource that a response leaves out (listeners, clusters and scoped routes are full
 *       state), so a proxy whose accepted version is known ({@link HeldVersions}) is sent only
 *       the assignments and route configurations that differ. The first response of the type
 *       on a stream is whole (a reconnecting proxy is sent its config again), and so is the
 *       first after clusters (for endpoints) or listeners or scopes (for routes) were sent,
 *       since what they recreate waits for what it held, and the first after a NACK.
 *   <li><b>Delta xDS is refused</b>: java-control-plane ignores {@code initial_resource_versions},
 *       so after a control plane restart a delta client could keep resources that are gone.
 * </ul>
 *
 * <p>What the rest of Steelyard learns of a stream are {@link ProxyEvent}s.
 */
public final class XdsStreams implements DiscoveryServerCallbacks, ConfigWatcher {

  private static final Logger log = LoggerFactory.getLogger(XdsStreams.class);

  /** What a NACK's message may occupy in an event; the log takes less. */
  private static final int MAX_NACK_CHARS = 4096;
  private static final int MAX_LOGGED_NACK_CHARS = 400;

  /** A response sent on a stream, to match the proxy's ACK or NACK against by nonce. */
  private record Sent(String nonce, String version, List<String> names) {}

  /** What {@link #createWatch} needs of the request the callbacks just saw. */
  private record Pending(Stream stream, RequestedNames names, String rejectedVersion,
      Set<String> rejectedNames) {}

  /** A request by identity: the observer passes the callbacks' request object to the watch. */
  private record RequestKey(DiscoveryRequest request) {
    @Override
    public boolean equals(Object o) {
      return o instanceof RequestKey other && other.request == request;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(request);
    }
  }

  private static final class Stream {
    final long id;
    final Node node;
    final ProxyGroup group;
    final Map<XdsType, Sent> lastSent = new ConcurrentHashMap<>();
    /** Per type, the names of the last request: the next one most often names them again. */
    final RequestedNames[] lastNames = new RequestedNames[XdsType.values().length];
    /** The request whose watch is not made yet (a stale one never gets one). */
    volatile RequestKey pending;
    /** The NACK last written to the log: a repeat within a minute is not. Guarded by this. */
    Nack lastLoggedNack;
    /**
     * The next EDS response must carry every assignment: none was made on this stream yet,
     * or a CDS response was made after the last one.
     */
    final AtomicBoolean wholeEndpointsNext = new AtomicBoolean(true);
    /** The same for routes: a new listener or scope may name a route configuration again. */
    final AtomicBoolean wholeRoutesNext = new AtomicBoolean(true);

    Stream(long id, Node node, ProxyGroup group) {
      this.id = id;
      this.node = node;
      this.group = group;
    }
  }

  /**
   * Streams that sent a valid first request. A stream is entered only then, so one refused or
   * dropped before it (by java-control-plane, which does not report such closes) leaves nothing.
   */
  private final Map<Long, Stream> streams = new ConcurrentHashMap<>();
  private final Map<RequestKey, Pending> pending = new ConcurrentHashMap<>();
  private final IndexedCache cache;
  private final HeldVersions heldVersions;
  private final XdsLimits limits;
  private final Consumer<ProxyEvent> events;
  private final Counter nacks;
  private final Counter skipped;
  private final Counter skippedRoutes;
  private final RateLimitedLog nackLog = new RateLimitedLog(log, 60);
  private final RateLimitedLog refusals = new RateLimitedLog(log, 10);

  /** {@code events} is called on the stream's thread, or the publisher's for {@code Sent}. */
  public XdsStreams(IndexedCache cache, HeldVersions heldVersions, XdsLimits limits,
      Consumer<ProxyEvent> events, MeterRegistry meters) {
    this.cache = cache;
    this.heldVersions = heldVersions;
    this.limits = limits;
    this.events = events;
    this.nacks = Counter.builder("steelyard_xds_nacks_total").register(meters);
    this.skipped = Counter.builder("steelyard_xds_endpoints_not_resent_total")
        .description("endpoint assignments left out of EDS responses: the proxy held them")
        .register(meters);
    this.skippedRoutes = Counter.builder("steelyard_xds_routes_not_resent_total")
        .description("route configurations left out of RDS responses: the proxy held them")
        .register(meters);
    Gauge.builder("steelyard_xds_streams", streams, Map::size).register(meters);
  }

  @Override
  public void onStreamOpen(long streamId, String typeUrl) {
    // Entered with its first valid request (see streams).
  }

  @Override
  public void onStreamClose(long streamId, String typeUrl) {
    close(streamId);
  }

  @Override
  public void onStreamCloseWithError(long streamId, String typeUrl, Throwable error) {
    close(streamId);
  }

  private void close(long streamId) {
    Stream stream = streams.remove(streamId);
    if (stream != null) {
      RequestKey key = stream.pending;
      if (key != null) {
        pending.remove(key);
      }
      events.accept(new ProxyEvent.Disconnected(streamId));
    }
  }

  @Override
  public void onV3StreamRequest(long streamId, DiscoveryRequest request)
      throws RequestException {
    Stream stream = streams.get(streamId);
    XdsType type;
    try {
      type = checkLimits(request);
      if (stream == null) {
        stream = firstRequest(streamId, request);
      }
    } catch (RequestException e) {
      // java-control-plane closes the stream without telling the callbacks.
      close(streamId);
      refusals.warn("refused an xDS stream{}: {}", stream == null ? ""
          : " of " + LogText.of(stream.node.getId(), 100),
          LogText.of(String.valueOf(e.getStatus().getDescription()), 300));
      throw e;
    }
    RequestedNames names = RequestedNames.of(request.getResourceNamesList(),
        stream.lastNames[type.ordinal()]);
    stream.lastNames[type.ordinal()] = names;
    Sent sent = stream.lastSent.get(type);
    boolean answersLastResponse = sent != null && sent.nonce().equals(request.getResponseNonce());
    if (answersLastResponse && request.hasErrorDetail()) {
      String message = request.getErrorDetail().getMessage();
      Nack nack = new Nack(type, sent.version(), message.length() <= MAX_NACK_CHARS ? message
          : message.substring(0, MAX_NACK_CHARS) + "... (" + message.length() + " chars)",
          Instant.now());
      nacks.increment();
      expect(stream, request, new Pending(stream, names, sent.version(),
          Set.copyOf(sent.names())));
      logNack(stream, nack);
      events.accept(new ProxyEvent.Nacked(streamId, nack));
      return;
    }
    // The first request of a type on a new stream says what the proxy already runs (from an
    // earlier stream, before a control plane restart or a reconnect): an unchanged version is
    // not sent again, so this is the only "ACK" such a proxy will give until the next change.
    boolean reportsWhatItRuns = sent == null && !request.hasErrorDetail()
        && !request.getVersionInfo().isEmpty();
    if (answersLastResponse || reportsWhatItRuns) {
      events.accept(new ProxyEvent.Acked(streamId, type, request.getVersionInfo(), names));
    }
    expect(stream, request, new Pending(stream, names, null, Set.of()));
  }

  /** Records what the watch for {@code request} will need, replacing a stale request's. */
  private void expect(Stream stream, DiscoveryRequest request, Pending context) {
    RequestKey key = new RequestKey(request);
    RequestKey stale = stream.pending;
    if (stale != null) {
      pending.remove(stale);
    }
    stream.pending = key;
    pending.put(key, context);
    if (!streams.containsKey(stream.id)) {
      // Closed meanwhile (on another thread): nothing will make this watch.
      pending.remove(key);
    }
  }

  /** Refuses a request beyond {@link XdsLimits}, or of a type steelyard does not serve. */
  private XdsType checkLimits(DiscoveryRequest request) throws RequestException {
    XdsType type = XdsType.ofTypeUrl(request.getTypeUrl());
    if (type == null) {
      throw refused("steelyard serves clusters, endpoints, listeners, scoped routes and routes "
          + "over ADS, not type \"" + LogText.of(request.getTypeUrl(), 100) + "\"");
    }
    int names = request.getResourceNamesCount();
    if (names > limits.maxNamesPerRequest()) {
      throw refused("a request of " + names + " resource names; at most "
          + limits.maxNamesPerRequest() + " are served in one request");
    }
    return type;
  }

  /** The stream's entry, from a first request that must carry a node within the limits. */
  private Stream firstRequest(long streamId, DiscoveryRequest request) throws RequestException {
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
    ProxyGroup group;
    try {
      group = ProxyGroup.of(kept);
    } catch (IllegalArgumentException e) {
      throw refused(e.getMessage());
    }
    if (!cache.admit(group)) {
      throw new RequestException(Status.RESOURCE_EXHAUSTED.withDescription("at most "
          + IndexedCache.MAX_SCOPED_GROUPS + " distinct sidecar scopes (node metadata "
          + ProxyScope.METADATA_KEY + ") are served; this one is new: "
          + LogText.of(group.scope().label(), 200)));
    }
    XdsPeer peer = XdsPeer.current();
    if (peer.method().equals("certificate")
        && !List.of(peer.identity().split(",")).contains(node.getId())) {
      // As Istio binds a proxy to its certificate: a certificate speaks for one node only.
      throw new RequestException(Status.PERMISSION_DENIED.withDescription("node id \""
          + LogText.of(node.getId(), 100) + "\" is not a name of the client certificate ("
          + LogText.of(peer.identity(), 200) + ")"));
    }
    Stream stream = new Stream(streamId, kept, group);
    streams.put(streamId, stream);
    events.accept(new ProxyEvent.Connected(streamId, kept, group, peer, XdsPeer.currentReading(),
        Instant.now()));
    return stream;
  }

  private static RequestException refused(String reason) {
    return new RequestException(Status.INVALID_ARGUMENT.withDescription(reason));
  }

  /**
   * One line per NACK, escaped and cut short, and not again for a repeat of the same NACK
   * within a minute: a proxy that rejects a version says so once, not once per retry.
   */
  private void logNack(Stream stream, Nack nack) {
    synchronized (stream) {
      Nack last = stream.lastLoggedNack;
      if (last != null && last.type() == nack.type()
          && last.rejectedVersion().equals(nack.rejectedVersion())
          && last.message().equals(nack.message())
          && last.at().plusSeconds(60).isAfter(nack.at())) {
        return;
      }
      stream.lastLoggedNack = nack;
    }
    nackLog.warn("{} ({}) rejected {} version {}: {}", LogText.of(stream.node.getId(), 200),
        stream.group, nack.type().label(), nack.rejectedVersion(),
        LogText.of(nack.message(), MAX_LOGGED_NACK_CHARS));
  }

  @Override
  public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request)
      throws RequestException {
    throw new RequestException(Status.UNIMPLEMENTED.withDescription(
        "steelyard serves state-of-the-world xDS only (ADS api_type GRPC, not DELTA_GRPC)"));
  }

  @Override
  public void onV3StreamResponse(long streamId, DiscoveryRequest request,
      DiscoveryResponse response) {
    Stream stream = streams.get(streamId);
    XdsType type = XdsType.ofTypeUrl(response.getTypeUrl());
    if (stream != null && type != null) {
      // The names the response answered, from the request rather than by unpacking every
      // resource (an Envoy's EDS response holds one per cluster); empty for a wildcard.
      stream.lastSent.put(type, new Sent(response.getNonce(), response.getVersionInfo(),
          request.getResourceNamesList()));
      events.accept(new ProxyEvent.Sent(streamId, type, response.getVersionInfo()));
    }
  }

  @Override
  public Watch createWatch(boolean ads, XdsRequest request, Set<String> knownResourceNames,
      Consumer<Response> responseConsumer, boolean hasClusterChanged,
      boolean allowDefaultEmptyEdsUpdate) {
    DiscoveryRequest original = request.v3Request();
    Pending context = pending.remove(new RequestKey(original));
    if (context == null) {
      // Every request reaches the callbacks first, which enter its stream or refuse it.
      throw new IllegalStateException("a watch for a request the stream callbacks did not see");
    }
    Stream stream = context.stream();
    stream.pending = null;
    Set<String> known = knownResourceNames;
    boolean holdsAll = false;
    if (ads && request.getResourceType() == ResourceType.CLUSTER) {
      responseConsumer = markingWholeNext(stream.wholeEndpointsNext, responseConsumer);
    } else if (ads && (request.getResourceType() == ResourceType.LISTENER
        || XdsType.ofTypeUrl(original.getTypeUrl()) == XdsType.SCOPED_ROUTES)) {
      responseConsumer = markingWholeNext(stream.wholeRoutesNext, responseConsumer);
    } else if (ads && request.getResourceType() == ResourceType.ROUTE) {
      // As endpoints below, with listeners and scopes in the place of clusters: a route
      // configuration is subscribed by a listener or a scope, and one that was dropped and
      // named again comes with a new one of those, after which the whole set is sent.
      if (context.rejectedVersion() != null) {
        stream.wholeRoutesNext.set(true);
      }
      HeldVersions.Held held = stream.wholeRoutesNext.get() ? null
          : heldVersions.held(XdsType.ROUTES, original.getVersionInfo());
      if (held != null) {
        known = held.names();
        holdsAll = held.namesExactly(context.names());
      }
      responseConsumer = onlyChanged(held, stream.wholeRoutesNext, skippedRoutes,
          responseConsumer);
    } else if (ads && request.getResourceType() == ResourceType.ENDPOINT) {
      if (hasClusterChanged || context.rejectedVersion() != null) {
        // Clusters went out after the last EDS response (possibly on another thread, so the
        // flag may not show it yet): a recreated cluster may wait for its assignment. After a
        // NACK the proxy may hold part of what it rejected. Either way it gets everything.
        stream.wholeEndpointsNext.set(true);
      }
      HeldVersions.Held held = stream.wholeEndpointsNext.get() ? null
          : heldVersions.held(XdsType.ENDPOINTS, original.getVersionInfo());
      if (held != null) {
        // The cache knows the names of the last response only, which may hold just the
        // changed assignments; the proxy holds every name of the version it accepted. A name
        // it dropped and asks for again comes back through a CDS response, which resets this.
        known = held.names();
        holdsAll = held.namesExactly(context.names());
      }
      responseConsumer = onlyChanged(held, stream.wholeEndpointsNext, skipped,
          responseConsumer);
    }
    // The watch keeps a request of its own: the stream's node (a later request may not carry
    // one) and the shared names, so the node and names parsed from this ACK are not kept.
    DiscoveryRequest.Builder kept = context.names().namesOnly().toBuilder()
        .setTypeUrl(original.getTypeUrl())
        .setVersionInfo(original.getVersionInfo())
        .setResponseNonce(original.getResponseNonce())
        .setNode(stream.node);
    if (context.rejectedVersion() != null) {
      kept.setVersionInfo(context.rejectedVersion());
      // The rejected resources were sent: count them as known, or the cache would treat them
      // as newly requested and respond at once anyway.
      known = new HashSet<>(known);
      known.addAll(context.rejectedNames());
      holdsAll = false;
    }
    return cache.createWatch(stream.group, ads, XdsRequest.create(kept.build()), context.names(),
        known, holdsAll, responseConsumer, hasClusterChanged, allowDefaultEmptyEdsUpdate);
  }

  /**
   * Passes on a response with only the resources the proxy does not hold yet, unless this is
   * the stream's first response of the type or clusters (for endpoints) or listeners or scopes
   * (for routes) went out since the last one: then the proxy may hold nothing, or what they
   * recreated may be waiting for a resource it held before.
   */
  private static Consumer<Response> onlyChanged(HeldVersions.Held held,
      AtomicBoolean wholeNext, Counter skipped, Consumer<Response> next) {
    return response -> {
      // Decided when the response is made: in one push the cache makes the CDS, LDS and SRDS
      // responses before the EDS and RDS ones, so a change in the same push is seen here.
      if (wholeNext.getAndSet(false) || held == null) {
        next.accept(response);
        return;
      }
      List<Message> changed = held.changed(response);
      skipped.increment(response.resources().size() - changed.size());
      next.accept(changed.size() == response.resources().size() ? response
          : Response.create(response.request(), changed, response.version()));
    };
  }

  /**
   * Clusters or listeners are going out: a recreated cluster will wait for its assignment, a
   * recreated listener for its route configurations.
   */
  private static Consumer<Response> markingWholeNext(AtomicBoolean wholeNext,
      Consumer<Response> next) {
    return response -> {
      wholeNext.set(true);
      next.accept(response);
    };
  }

  /** Unreachable: {@link #onV3StreamDeltaRequest} refuses every delta stream first. */
  @Override
  public DeltaWatch createDeltaWatch(DeltaXdsRequest request, String requesterVersion,
      Map<String, String> resourceVersions, Set<String> pendingResources, boolean isWildcard,
      Consumer<DeltaResponse> responseConsumer, boolean hasClusterChanged) {
    throw new UnsupportedOperationException("state-of-the-world xDS only");
  }
}
