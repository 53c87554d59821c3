package dev.steelyard.feedback;

import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.xds.Nack;
import dev.steelyard.xds.NamedVersionSnapshot;
import dev.steelyard.xds.RequestedNames;
import dev.steelyard.xds.XdsPeer;
import dev.steelyard.xds.XdsType;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One connected proxy as the admin API shows it: the newest stream of its node id.
 *
 * @param ackedNames per type, the names of the last ACK (empty: a wildcard request)
 * @param peer how the stream authenticated
 * @param streams how many streams share the node id (more than one while a reconnecting
 *     proxy's old stream lingers, or when clients reuse an id)
 */
public record ProxyStatus(
    long streamId,
    String nodeId,
    String cluster,
    ProxyGroup group,
    String app,
    String userAgent,
    Map<XdsType, String> ackedVersions,
    Map<XdsType, List<String>> ackedNames,
    Optional<Nack> lastNack,
    Instant connectedAt,
    XdsPeer peer,
    int streams) {

  public ProxyKind kind() {
    return group.kind();
  }

  /** The ACKed versions by type label (clusters, endpoints, listeners, routes). */
  public Map<String, String> ackedVersionsByLabel() {
    Map<String, String> byLabel = new java.util.TreeMap<>();
    ackedVersions.forEach((type, version) -> byLabel.put(type.label(), version));
    return byLabel;
  }

  /**
   * Whether this proxy ACKed what {@code served} (the snapshot of its group) holds for
   * {@code type}. A proxy that names its resources is versioned by those names only.
   */
  public boolean hasApplied(NamedVersionSnapshot served, XdsType type) {
    return applied(served, type, ackedVersions.get(type),
        RequestedNames.of(ackedNames.getOrDefault(type, List.of())));
  }

  /** Whether a proxy that ACKed {@code acked} for {@code names} holds what is served. */
  static boolean applied(NamedVersionSnapshot served, XdsType type, String acked,
      RequestedNames names) {
    return served != null && acked != null && acked.equals(served.version(type, names));
  }
}
