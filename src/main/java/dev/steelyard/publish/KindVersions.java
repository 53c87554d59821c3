package dev.steelyard.publish;

import dev.steelyard.translate.ProxyResources;

/** Content versions of the four resource types published to one kind of proxy. */
public record KindVersions(String clusters, String endpoints, String listeners, String routes) {

  public static KindVersions of(ProxyResources resources) {
    return new KindVersions(
        ContentVersion.ofType(resources.clusters()),
        ContentVersion.ofType(resources.endpoints()),
        ContentVersion.ofType(resources.listeners()),
        ContentVersion.ofType(resources.routes()));
  }

  /** The version by short type name: clusters, endpoints, listeners, routes. */
  public String get(String type) {
    return switch (type) {
      case "clusters" -> clusters;
      case "endpoints" -> endpoints;
      case "listeners" -> listeners;
      case "routes" -> routes;
      default -> throw new IllegalArgumentException("unknown resource type " + type);
    };
  }
}
