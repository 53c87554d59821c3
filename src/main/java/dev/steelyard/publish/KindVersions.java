package dev.steelyard.publish;

import dev.steelyard.xds.XdsType;

/** Content versions of the four resource types published to one kind of proxy. */
public record KindVersions(String clusters, String endpoints, String listeners, String routes) {

  public String get(XdsType type) {
    return switch (type) {
      case CLUSTERS -> clusters;
      case ENDPOINTS -> endpoints;
      case LISTENERS -> listeners;
      case ROUTES -> routes;
    };
  }
}
