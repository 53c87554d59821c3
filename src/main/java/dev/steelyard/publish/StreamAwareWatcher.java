package dev.steelyard.publish;

import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.ConfigWatcher;
import io.envoyproxy.controlplane.cache.DeltaResponse;
import io.envoyproxy.controlplane.cache.DeltaWatch;
import io.envoyproxy.controlplane.cache.DeltaXdsRequest;
import io.envoyproxy.controlplane.cache.Resources.ResourceType;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.XdsRequest;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Puts in front of java-control-plane's cache what it does not track per stream.
 *
 * <ul>
 *   <li><b>The node.</b> Envoy with {@code set_node_on_first_message_only} sends its node once;
 *       the cache picks the snapshot group from every request's node, so later requests would
 *       land in the wrong group. The stream's node is filled in.
 *   <li><b>NACKs.</b> A NACK carries the last <em>accepted</em> version, so the cache sees a
 *       mismatch and sends the rejected snapshot again at once, thousands of times a second.
 *       Here a NACK is handed to the cache as if it carried the rejected version: the cache
 *       parks the watch until a newer snapshot exists, and the proxy keeps its last good config.
 *   <li><b>Unchanged endpoints.</b> The cache answers an EDS request with every assignment it
 *       names, so one moved pod re-sent all of an Envoy's assignments (one per cluster). A
 *       state-of-the-world client keeps an EDS resource that a response leaves out (only
 *       listeners and clusters are full state), so a proxy whose accepted version is known here
 *       ({@link EndpointVersions}) is sent only the assignments that differ. The first EDS
 *       response on a stream is whole (a reconnecting proxy is sent its config again), and so
 *       is the first after clusters were sent, as the cache's own {@code hasClusterChanged}
 *       intends (a recreated cluster waits for its assignment), and the first after a NACK.
 * </ul>
 *
 * <p>The stream observer runs the request callbacks and then {@code createWatch} on the same
 * thread for the same request object; that is how {@code ProxyRegistry} hands over the stream's
 * context through {@link #prepare}.
 */
public final class StreamAwareWatcher implements ConfigWatcher {

  private record StreamContext(DiscoveryRequest request, Node node, RequestedNames names,
      String rejectedVersion, Set<String> rejectedNames, AtomicBoolean wholeEndpointsNext) {}

  private final IndexedCache cache;
  private final EndpointVersions endpointVersions;
  private final Counter skipped;
  private final ThreadLocal<StreamContext> pending = new ThreadLocal<>();

  public StreamAwareWatcher(IndexedCache cache, EndpointVersions endpointVersions,
      MeterRegistry meters) {
    this.cache = cache;
    this.endpointVersions = endpointVersions;
    this.skipped = Counter.builder("steelyard_xds_endpoints_not_resent_total")
        .description("endpoint assignments left out of EDS responses: the proxy held them")
        .register(meters);
  }

  /**
   * The stream's node for {@code request} and its names' shared instance, about to be passed to
   * {@link #createWatch}; {@code wholeEndpointsNext} tells whether the stream's next EDS response
   * must carry every assignment: none was sent on it yet, or clusters were sent after the last.
   */
  public void prepare(DiscoveryRequest request, Node node, RequestedNames names,
      AtomicBoolean wholeEndpointsNext) {
    pending.set(new StreamContext(request, node, names, null, Set.of(), wholeEndpointsNext));
  }

  /** Like {@link #prepare}, for a NACK of {@code version}, which carried {@code rejected}. */
  public void prepareNack(DiscoveryRequest request, Node node, RequestedNames names,
      String version, Set<String> rejected, AtomicBoolean wholeEndpointsNext) {
    pending.set(new StreamContext(request, node, names, version, rejected, wholeEndpointsNext));
  }

  @Override
  public Watch createWatch(boolean ads, XdsRequest request, Set<String> knownResourceNames,
      Consumer<Response> responseConsumer, boolean hasClusterChanged,
      boolean allowDefaultEmptyEdsUpdate) {
    StreamContext context = pending.get();
    pending.remove();
    if (context == null || context.request() != request.v3Request()) {
      return cache.createWatch(ads, request, knownResourceNames, responseConsumer,
          hasClusterChanged, allowDefaultEmptyEdsUpdate);
    }
    DiscoveryRequest original = request.v3Request();
    Set<String> known = knownResourceNames;
    if (ads && request.getResourceType() == ResourceType.CLUSTER) {
      responseConsumer = markingWholeEndpointsNext(context.wholeEndpointsNext(),
          responseConsumer);
    } else if (ads && request.getResourceType() == ResourceType.ENDPOINT) {
      if (hasClusterChanged || context.rejectedVersion() != null) {
        // Clusters went out after the last EDS response (possibly on another thread, so the
        // flag may not show it yet): a recreated cluster may wait for its assignment. After a
        // NACK the proxy may hold part of what it rejected. Either way it gets everything.
        context.wholeEndpointsNext().set(true);
      }
      EndpointVersions.Held held = context.wholeEndpointsNext().get() ? null
          : endpointVersions.held(original.getVersionInfo());
      if (held != null) {
        // The cache knows the names of the last response only, which may hold just the
        // changed assignments; the proxy holds every name of the version it accepted. A name
        // it dropped and asks for again comes back through a CDS response, which resets this.
        known = held.names();
      }
      responseConsumer = onlyChangedEndpoints(held, context.wholeEndpointsNext(), skipped,
          responseConsumer);
    }
    // The watch keeps a request of its own: the stream's node (a later request may not carry
    // one) and the shared names, so the node and names parsed from this ACK are not kept.
    DiscoveryRequest.Builder kept = context.names().namesOnly().toBuilder()
        .setTypeUrl(original.getTypeUrl())
        .setVersionInfo(original.getVersionInfo())
        .setResponseNonce(original.getResponseNonce())
        .setNode(context.node());
    if (context.rejectedVersion() != null) {
      kept.setVersionInfo(context.rejectedVersion());
      // The rejected resources were sent: count them as known, or the cache would treat them
      // as newly requested and respond at once anyway.
      known = new HashSet<>(known);
      known.addAll(context.rejectedNames());
    }
    return cache.createWatch(ads, XdsRequest.create(kept.build()), context.names(), known,
        responseConsumer, hasClusterChanged, allowDefaultEmptyEdsUpdate);
  }

  /**
   * Passes on a response with only the assignments the proxy does not hold yet, unless this is
   * the stream's first EDS response or clusters went out since the last one: then the proxy
   * may hold nothing, or a recreated cluster may be waiting for its assignment.
   */
  private static Consumer<Response> onlyChangedEndpoints(EndpointVersions.Held held,
      AtomicBoolean wholeEndpointsNext, Counter skipped, Consumer<Response> next) {
    return response -> {
      // Decided when the response is made: in one push the cache makes the CDS responses
      // before the EDS responses, so a cluster change in the same push is seen here.
      if (wholeEndpointsNext.getAndSet(false) || held == null) {
        next.accept(response);
        return;
      }
      List<Message> changed = held.changed(response);
      skipped.increment(response.resources().size() - changed.size());
      next.accept(changed.size() == response.resources().size() ? response
          : Response.create(response.request(), changed, response.version()));
    };
  }

  /** Clusters are going out: a recreated cluster will wait for its assignment. */
  private static Consumer<Response> markingWholeEndpointsNext(AtomicBoolean wholeEndpointsNext,
      Consumer<Response> next) {
    return response -> {
      wholeEndpointsNext.set(true);
      next.accept(response);
    };
  }

  @Override
  public DeltaWatch createDeltaWatch(DeltaXdsRequest request, String requesterVersion,
      Map<String, String> resourceVersions, Set<String> pendingResources, boolean isWildcard,
      Consumer<DeltaResponse> responseConsumer, boolean hasClusterChanged) {
    return cache.createDeltaWatch(request, requesterVersion, resourceVersions,
        pendingResources, isWildcard, responseConsumer, hasClusterChanged);
  }
}
