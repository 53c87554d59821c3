package dev.steelyard.translate;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import java.util.List;

/**
 * Everything one kind of proxy is sent, in a stable order.
 *
 * @param scopedRoutes the scopes of sidecars with per-app routes (none for any other proxy)
 */
public record ProxyResources(
    List<Cluster> clusters,
    List<ClusterLoadAssignment> endpoints,
    List<Listener> listeners,
    List<ScopedRouteConfiguration> scopedRoutes,
    List<RouteConfiguration> routes) {

  public ProxyResources {
    clusters = List.copyOf(clusters);
    endpoints = List.copyOf(endpoints);
    listeners = List.copyOf(listeners);
    scopedRoutes = List.copyOf(scopedRoutes);
    routes = List.copyOf(routes);
  }
}
