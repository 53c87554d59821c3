package dev.steelyard.publish;

import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.Resources.ResourceType;
import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import java.util.List;
import java.util.Map;

/**
 * A snapshot whose version, for a request that names its resources, is the version of the newest
 * snapshot in which one of those resources changed. {@code SimpleCache} pushes to a watch when
 * this version differs from the one the proxy has, so a gRPC client that names only its own
 * app's listener, routes, clusters and endpoints is no longer sent anything when another app
 * changes. Wildcard requests (Envoy's CDS and LDS) and requests naming a resource this snapshot
 * does not have get the version of the whole type, as before.
 */
public final class NamedVersionSnapshot extends Snapshot {

  /**
   * When one resource last changed: the publish that changed it and that publish's version, with
   * the resource instance, reused while its content stays the same.
   */
  record Changed(String contentHash, long generation, String version, Message resource) {}

  private final Snapshot whole;
  private final Map<ResourceType, Map<String, Changed>> changed;
  /** The newest generation among each type's resources: a name at it ends the search early. */
  private final Map<ResourceType, Long> newest = new java.util.EnumMap<>(ResourceType.class);

  NamedVersionSnapshot(Snapshot whole, Map<ResourceType, Map<String, Changed>> changed) {
    this.whole = whole;
    this.changed = changed;
    changed.forEach((type, byName) -> newest.put(type,
        byName.values().stream().mapToLong(Changed::generation).max().orElse(0)));
  }

  Map<String, Changed> changed(ResourceType type) {
    return changed.getOrDefault(type, Map.of());
  }

  @Override
  public String version(ResourceType type, List<String> resourceNames) {
    if (resourceNames == null || resourceNames.isEmpty()) {
      return whole.version(type);
    }
    Map<String, Changed> byName = changed(type);
    long newestOfType = newest.getOrDefault(type, 0L);
    Changed latest = null;
    boolean complete = true;
    for (String name : resourceNames) {
      Changed c = byName.get(name);
      if (c == null) {
        complete = false;
        break;
      }
      if (latest == null || c.generation() > latest.generation()) {
        latest = c;
      }
      if (latest.generation() == newestOfType) {
        // Nothing can be newer; a missing name later on is answered by SimpleCache's own
        // ADS check, which withholds the response whatever the version.
        break;
      }
    }
    return complete ? latest.version() : whole.version(type);
  }

  @Override
  public String version(String typeUrl, List<String> resourceNames) {
    ResourceType type = Resources.TYPE_URLS_TO_RESOURCE_TYPE.get(typeUrl);
    return type == null ? "" : version(type, resourceNames);
  }

  // v3.Snapshot implements this with a return type javac does not see as overriding the base
  // class's; the raw type satisfies both, and the body is v3.Snapshot's own.
  @Override
  @SuppressWarnings({"rawtypes", "unchecked"})
  public Map versionedResources(ResourceType type) {
    return whole.versionedResources(type);
  }

  @Override
  public SnapshotResources<Cluster> clusters() {
    return whole.clusters();
  }

  @Override
  public SnapshotResources<ClusterLoadAssignment> endpoints() {
    return whole.endpoints();
  }

  @Override
  public SnapshotResources<Listener> listeners() {
    return whole.listeners();
  }

  @Override
  public SnapshotResources<RouteConfiguration> routes() {
    return whole.routes();
  }

  @Override
  public SnapshotResources<Secret> secrets() {
    return whole.secrets();
  }
}
