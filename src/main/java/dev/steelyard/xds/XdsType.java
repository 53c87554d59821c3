package dev.steelyard.xds;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.Resources.ResourceType;

/**
 * The four state-of-the-world types Steelyard serves, in the order a push sends them (clusters
 * before their endpoints, listeners before their routes). The label is how the admin API and the
 * logs name a type.
 */
public enum XdsType {
  CLUSTERS("clusters", ResourceType.CLUSTER, Resources.V3.CLUSTER_TYPE_URL),
  ENDPOINTS("endpoints", ResourceType.ENDPOINT, Resources.V3.ENDPOINT_TYPE_URL),
  LISTENERS("listeners", ResourceType.LISTENER, Resources.V3.LISTENER_TYPE_URL),
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

  /** The type as java-control-plane names it. */
  public ResourceType resourceType() {
    return resourceType;
  }

  public String typeUrl() {
    return typeUrl;
  }

  /** The served type of a v3 type URL, or null for any other. */
  public static XdsType ofTypeUrl(String typeUrl) {
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
