package dev.steelyard.publish;

import dev.steelyard.split.SplitSnapshot;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.view.MeshView;
import io.envoyproxy.controlplane.cache.Resources.ResourceType;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the proxies are being served now: the view, the splits it was composed from (so that
 * whoever describes it names the split it carries, not a newer one still being published), the
 * content versions per proxy kind, and why the newest build was refused, if it was (the previous
 * snapshot then stays).
 */
public record PublishedState(
    long generation,
    MeshView view,
    SplitSnapshot splits,
    Map<ProxyKind, KindVersions> versions,
    Map<ProxyKind, NamedVersionSnapshot> snapshots,
    Instant at,
    Optional<String> lastError) {

  /**
   * The version a proxy of {@code kind} is sent for {@code type} (clusters, endpoints, listeners,
   * routes) when it asks for {@code names}: the type's version for a wildcard request, else the
   * content hash of the named resources.
   */
  public String version(ProxyKind kind, String type, List<String> names) {
    return version(kind, type, RequestedNames.of(names));
  }

  /** As {@link #version(ProxyKind, String, List)}, for names already looked up. */
  public String version(ProxyKind kind, String type, RequestedNames names) {
    NamedVersionSnapshot snapshot = snapshots.get(kind);
    if (snapshot == null) {
      KindVersions whole = versions.get(kind);
      return whole == null ? "" : whole.get(type);
    }
    ResourceType resourceType = resourceType(type);
    if (resourceType == null) {
      throw new IllegalArgumentException("unknown resource type " + type);
    }
    return snapshot.version(resourceType, names);
  }

  /** The type of a short name (clusters, endpoints, listeners, routes), or null. */
  public static ResourceType resourceType(String shortName) {
    return switch (shortName) {
      case "clusters" -> ResourceType.CLUSTER;
      case "endpoints" -> ResourceType.ENDPOINT;
      case "listeners" -> ResourceType.LISTENER;
      case "routes" -> ResourceType.ROUTE;
      default -> null;
    };
  }
}
