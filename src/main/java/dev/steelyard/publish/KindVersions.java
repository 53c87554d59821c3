package dev.steelyard.publish;

import dev.steelyard.xds.NamedVersionSnapshot;
import dev.steelyard.xds.XdsType;

/** Content versions of the resource types published to one kind of proxy. */
public record KindVersions(String clusters, String endpoints, String listeners,
    String scopedRoutes, String routes) {

  /** The whole versions of each type of {@code snapshot}. */
  public static KindVersions of(NamedVersionSnapshot snapshot) {
    return new KindVersions(snapshot.wholeVersion(XdsType.CLUSTERS),
        snapshot.wholeVersion(XdsType.ENDPOINTS), snapshot.wholeVersion(XdsType.LISTENERS),
        snapshot.wholeVersion(XdsType.SCOPED_ROUTES), snapshot.wholeVersion(XdsType.ROUTES));
  }

  public String get(XdsType type) {
    return switch (type) {
      case CLUSTERS -> clusters;
      case ENDPOINTS -> endpoints;
      case LISTENERS -> listeners;
      case SCOPED_ROUTES -> scopedRoutes;
      case ROUTES -> routes;
    };
  }
}
