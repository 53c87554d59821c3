package dev.steelyard.status;

import dev.steelyard.publish.KindVersions;
import dev.steelyard.publish.PublishedState;
import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.ResourceNames;
import dev.steelyard.view.AppKey;
import dev.steelyard.xds.NamedVersionSnapshot;
import dev.steelyard.xds.RequestedNames;
import dev.steelyard.xds.XdsType;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The routes version a proxy of each kind ACKs once it runs what is published for one app, as
 * the admin API and TrafficSplit status show it. Envoys name every route configuration of their
 * kind, so they ACK the whole type's version; a gRPC client names its app's route configuration
 * only, so it ACKs the version of that one name (which does not move when another app changes).
 */
public final class RoutesVersions {

  private RoutesVersions() {}

  public static Map<ProxyKind, String> of(AppKey app, PublishedState published) {
    Map<ProxyKind, String> versions = new EnumMap<>(ProxyKind.class);
    for (Map.Entry<ProxyKind, KindVersions> entry : published.versions().entrySet()) {
      ProxyKind kind = entry.getKey();
      NamedVersionSnapshot snapshot = published.snapshots().get(ProxyGroup.all(kind));
      versions.put(kind, kind == ProxyKind.GRPC && snapshot != null
          ? snapshot.version(XdsType.ROUTES,
              RequestedNames.of(List.of(ResourceNames.grpcRoutes(app))))
          : entry.getValue().routes());
    }
    return versions;
  }
}
