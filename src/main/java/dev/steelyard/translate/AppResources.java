package dev.steelyard.translate;

import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppView;
import dev.steelyard.view.SubsetRole;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What one app contributes to the resources of every proxy kind, translated once. The mesh's
 * resources are these pieces put together ({@link MeshTranslator#assemble}), so an app whose
 * view did not change keeps its instances ({@link TranslationCache}) and everything downstream
 * (content hashes, make-before-break, the cache's comparisons) sees them as the same object.
 *
 * @param envoyClusters the clusters Envoy gets (gateway and sidecar alike), one per role
 * @param grpcClusters the clusters proxyless gRPC clients get (they report load to us)
 * @param meshHost the virtual host on the sidecars' route configuration
 * @param sidecarRoutes the app's own route configuration, for sidecars with per-app routes
 * @param sidecarScopes the scopes leading there, one per mesh name without its port
 * @param gatewayHost the virtual host on the gateway's, for an app with gateway hosts
 */
public record AppResources(
    AppKey key,
    List<Cluster> envoyClusters,
    List<Cluster> grpcClusters,
    List<ClusterLoadAssignment> assignments,
    List<Listener> grpcListeners,
    RouteConfiguration grpcRoutes,
    VirtualHost meshHost,
    RouteConfiguration sidecarRoutes,
    List<ScopedRouteConfiguration> sidecarScopes,
    Optional<VirtualHost> gatewayHost) {

  public AppResources {
    envoyClusters = List.copyOf(envoyClusters);
    grpcClusters = List.copyOf(grpcClusters);
    assignments = List.copyOf(assignments);
    grpcListeners = List.copyOf(grpcListeners);
    sidecarScopes = List.copyOf(sidecarScopes);
  }

  /** Translates {@code app}, which mesh clients call by {@code meshHosts}. */
  public static AppResources of(AppView app, List<String> meshHosts) {
    List<Cluster> envoy = new ArrayList<>(3);
    List<Cluster> grpc = new ArrayList<>(3);
    List<ClusterLoadAssignment> assignments = new ArrayList<>(3);
    for (SubsetRole role : SubsetRole.values()) {
      envoy.add(ClusterTranslator.cluster(app, role, ProxyKind.SIDECAR));
      grpc.add(ClusterTranslator.cluster(app, role, ProxyKind.GRPC));
      assignments.add(ClusterTranslator.assignment(ResourceNames.cluster(app.key(), role),
          app.spec().endpoints(role)));
    }
    VirtualHost meshHost = RouteTranslator.virtualHost(app.key(), meshHosts,
        app.mesh().effective());
    Optional<VirtualHost> gatewayHost = app.spec().gatewayHosts().isEmpty() ? Optional.empty()
        : Optional.of(RouteTranslator.virtualHost(app.key(), app.spec().gatewayHosts(),
            app.gateway().effective()));
    return new AppResources(app.key(), envoy, grpc, assignments,
        ListenerTranslator.grpc(app.key(), meshHosts), RouteTranslator.grpc(app.key(), meshHost),
        meshHost, RouteTranslator.sidecarApp(app.key(), meshHost),
        RouteTranslator.sidecarScopes(app.key(), meshHosts), gatewayHost);
  }

  /**
   * This translation, with every piece equal to {@code before}'s replaced by that instance: a
   * weight change re-translates the app but leaves its clusters, assignments and listeners as
   * they were, so they stay the instances downstream already holds (and hashed).
   */
  AppResources keepingEqual(AppResources before) {
    if (equals(before)) {
      return before;
    }
    return new AppResources(key, kept(envoyClusters, before.envoyClusters),
        kept(grpcClusters, before.grpcClusters), kept(assignments, before.assignments),
        kept(grpcListeners, before.grpcListeners),
        grpcRoutes.equals(before.grpcRoutes) ? before.grpcRoutes : grpcRoutes,
        meshHost.equals(before.meshHost) ? before.meshHost : meshHost,
        sidecarRoutes.equals(before.sidecarRoutes) ? before.sidecarRoutes : sidecarRoutes,
        kept(sidecarScopes, before.sidecarScopes),
        gatewayHost.equals(before.gatewayHost) ? before.gatewayHost : gatewayHost);
  }

  private static <T> List<T> kept(List<T> now, List<T> before) {
    if (now.equals(before)) {
      return before;
    }
    List<T> kept = new ArrayList<>(now.size());
    for (int i = 0; i < now.size(); i++) {
      T piece = now.get(i);
      kept.add(i < before.size() && piece.equals(before.get(i)) ? before.get(i) : piece);
    }
    return kept;
  }

  /** The clusters a proxy of {@code kind} gets for this app. */
  public List<Cluster> clusters(ProxyKind kind) {
    return kind == ProxyKind.GRPC ? grpcClusters : envoyClusters;
  }
}
