package dev.steelyard.publish;

import io.envoyproxy.controlplane.cache.ConfigWatcher;
import io.envoyproxy.controlplane.cache.DeltaResponse;
import io.envoyproxy.controlplane.cache.DeltaWatch;
import io.envoyproxy.controlplane.cache.DeltaXdsRequest;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.XdsRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Stops java-control-plane's NACK loop. A NACK carries the last <em>accepted</em> version, so the
 * cache sees a mismatch and sends the rejected snapshot again at once, thousands of times a
 * second. Here a NACKed request is handed to the cache as if it carried the rejected version: the
 * cache then parks the watch until a newer snapshot exists, and the proxy keeps its last good
 * config in the meantime.
 *
 * <p>The stream observer runs the request callbacks and then {@code createWatch} on the same
 * thread for the same request object, which is how the rejected version found by
 * {@code ProxyRegistry} reaches this class.
 */
public final class NackHoldbackWatcher implements ConfigWatcher {

  private record Rejection(DiscoveryRequest request, String version) {}

  private final ConfigWatcher delegate;
  private final ThreadLocal<Rejection> pending = new ThreadLocal<>();

  public NackHoldbackWatcher(ConfigWatcher delegate) {
    this.delegate = delegate;
  }

  /** Marks {@code request}, a NACK, as rejecting {@code version}. */
  public void holdBack(DiscoveryRequest request, String version) {
    pending.set(new Rejection(request, version));
  }

  @Override
  public Watch createWatch(boolean ads, XdsRequest request, Set<String> knownResourceNames,
      Consumer<Response> responseConsumer, boolean hasClusterChanged,
      boolean allowDefaultEmptyEdsUpdate) {
    Rejection rejection = pending.get();
    pending.remove();
    if (rejection != null && rejection.request() == request.v3Request()) {
      XdsRequest asIfAtRejected = XdsRequest.create(
          request.v3Request().toBuilder().setVersionInfo(rejection.version()).build());
      // The rejected resources were sent: count them as known, or the cache would treat the
      // names as new and respond at once anyway.
      Set<String> known = new HashSet<>(knownResourceNames);
      known.addAll(request.getResourceNamesList());
      return delegate.createWatch(ads, asIfAtRejected, known, responseConsumer,
          hasClusterChanged, allowDefaultEmptyEdsUpdate);
    }
    return delegate.createWatch(ads, request, knownResourceNames, responseConsumer,
        hasClusterChanged, allowDefaultEmptyEdsUpdate);
  }

  @Override
  public DeltaWatch createDeltaWatch(DeltaXdsRequest request, String requesterVersion,
      Map<String, String> resourceVersions, Set<String> pendingResources, boolean isWildcard,
      Consumer<DeltaResponse> responseConsumer, boolean hasClusterChanged) {
    return delegate.createDeltaWatch(request, requesterVersion, resourceVersions,
        pendingResources, isWildcard, responseConsumer, hasClusterChanged);
  }
}
