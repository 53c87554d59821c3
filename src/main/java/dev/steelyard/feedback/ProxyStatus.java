package dev.steelyard.feedback;

import dev.steelyard.publish.PublishedState;
import dev.steelyard.publish.RequestedNames;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.xds.XdsPeer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One connected proxy as the admin API shows it: the newest stream of its node id.
 *
 * @param peer how the stream authenticated
 * @param streams how many streams share the node id (more than one while a reconnecting
 *     proxy's old stream lingers, or when clients reuse an id)
 */
public record ProxyStatus(
    long streamId,
    String nodeId,
    String cluster,
    ProxyKind kind,
    String app,
    String userAgent,
    Map<String, String> ackedVersions,
    Map<String, List<String>> ackedNames,
    Optional<Nack> lastNack,
    Instant connectedAt,
    XdsPeer peer,
    int streams) {

  /**
   * Whether this proxy ACKed what is published now for {@code type} (clusters, endpoints,
   * listeners, routes). A proxy that names its resources is versioned by those names only.
   */
  public boolean hasApplied(PublishedState published, String type) {
    return applied(published, kind, type, ackedVersions.get(type),
        RequestedNames.of(ackedNames.getOrDefault(type, List.of())));
  }

  /** Whether a proxy that ACKed {@code acked} for {@code names} holds what is published. */
  static boolean applied(PublishedState published, ProxyKind kind, String type, String acked,
      RequestedNames names) {
    return acked != null && acked.equals(published.version(kind, type, names));
  }
}
