package dev.steelyard.xds;

import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.Resources.ResourceType;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;

/**
 * The state-of-the-world types Steelyard serves, in the order a push sends them (clusters
 * before their endpoints, listeners before the scopes they use, scopes before the route
 * configurations they name). The label is how the admin API and the logs name a type.
 * Scoped routes are served only to sidecars with per-app routes; java-control-plane has no name
 * for that type, so this enum, not its {@link ResourceType}, is what the cache is keyed by.
 */
public enum XdsType {
  CLUSTERS("clusters", ResourceType.CLUSTER, Resources.V3.CLUSTER_TYPE_URL),
  ENDPOINTS("endpoints", ResourceType.ENDPOINT, Resources.V3.ENDPOINT_TYPE_URL),
  LISTENERS("listeners", ResourceType.LISTENER, Resources.V3.LISTENER_TYPE_URL),
  SCOPED_ROUTES("scopedRoutes", null,
      "type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration"),
  ROUTES("routes", ResourceType.ROUTE, Resources.V3.ROUTE_TYPE_URL);

  private final String label;
  private final ResourceType resourceType;
  private final String typeUrl;

  XdsType(String label, ResourceType resourceType, String typeUrl) {
    this.label = label;
    this.resourceType = resourceType;
    this.typeUrl = typeUrl;
  }

  public String label() {
    return label;
  }

  /** The type as java-control-plane names it; null for scoped routes, which it does not. */
  public ResourceType resourceType() {
    return resourceType;
  }

  public String typeUrl() {
    return typeUrl;
  }

  /** The name a resource of this type is asked for by. */
  public static String nameOf(Message resource) {
    if (resource instanceof ClusterLoadAssignment assignment) {
      return assignment.getClusterName();
    } else if (resource instanceof Cluster cluster) {
      return cluster.getName();
    } else if (resource instanceof RouteConfiguration routes) {
      return routes.getName();
    } else if (resource instanceof Listener listener) {
      return listener.getName();
    } else if (resource instanceof ScopedRouteConfiguration scope) {
      return scope.getName();
    }
    return "";
  }

  /**
   * The served type of a v3 type URL, as a client or java-control-plane names it (scoped
   * routes travel through it under another name: {@link ScopedRoutesCarrier}), or null.
   */
  public static XdsType ofTypeUrl(String typeUrl) {
    if (typeUrl.equals(ScopedRoutesCarrier.CARRIED_AS)) {
      return SCOPED_ROUTES;
    }
    for (XdsType type : values()) {
      if (type.typeUrl.equals(typeUrl)) {
        return type;
      }
    }
    return null;
  }

  /** The served type java-control-plane calls {@code type}, or null (secrets). */
  public static XdsType of(ResourceType type) {
    return switch (type) {
      case CLUSTER -> CLUSTERS;
      case ENDPOINT -> ENDPOINTS;
      case LISTENER -> LISTENERS;
      case ROUTE -> ROUTES;
      default -> null;
    };
  }
}
