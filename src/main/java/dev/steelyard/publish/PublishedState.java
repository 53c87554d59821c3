package dev.steelyard.publish;

import dev.steelyard.split.SplitSnapshot;
import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.view.MeshView;
import dev.steelyard.xds.NamedVersionSnapshot;
import dev.steelyard.xds.RequestedNames;
import dev.steelyard.xds.XdsType;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the proxies are being served now: the view, the splits it was composed from (so that
 * whoever describes it names the split it carries, not a newer one still being published), the
 * content versions per proxy kind, the snapshot of every group, and why the newest build was refused, if it was (the previous
 * snapshot then stays).
 */
public record PublishedState(
    long generation,
    MeshView view,
    SplitSnapshot splits,
    Map<ProxyKind, KindVersions> versions,
    Map<ProxyGroup, NamedVersionSnapshot> snapshots,
    Instant at,
    Optional<String> lastError) {

  /**
   * The version an unscoped proxy of {@code kind} is sent for {@code type} when it asks for {@code names}:
   * the type's version for a wildcard request, else the content hash of the named resources.
   */
  public String version(ProxyKind kind, XdsType type, List<String> names) {
    NamedVersionSnapshot snapshot = snapshots.get(ProxyGroup.all(kind));
    return snapshot == null ? "" : snapshot.version(type, RequestedNames.of(names));
  }
}
