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
import java.util.TreeMap;

/**
 * A snapshot whose version, for a request that names its resources, is the content hash of
 * those resources only. {@link IndexedCache} pushes to a watch when this version differs from the
 * one the proxy has, so a gRPC client that names only its own app's listener, routes, clusters
 * and endpoints is not sent anything when another app changes. Being content hashes, these
 * versions are the same after a restart and on every replica; a name the snapshot does not
 * have counts as absent. Wildcard requests (Envoy's CDS and LDS) get the version of the whole
 * type.
 */
public final class NamedVersionSnapshot extends Snapshot {

  /** One resource with its content hash; the instance is reused while the content stays. */
  record Resource(String contentHash, Message resource) {}

  private static final SnapshotResources<Secret> NO_SECRETS =
      SnapshotResources.create(List.of(), "");

  private final SnapshotResources<Cluster> clusters;
  private final SnapshotResources<ClusterLoadAssignment> endpoints;
  private final SnapshotResources<Listener> listeners;
  private final SnapshotResources<RouteConfiguration> routes;
  private final Map<ResourceType, Map<String, Resource>> byType;
  private final EndpointVersions endpointVersions;
  /**
   * Versions already computed, by the list of names asked for. Proxies ask for few distinct
   * lists (every Envoy the same clusters, each gRPC client its app's), so this stays small;
   * past {@link #MAX_MEMO_NAMES} names a version is computed each time instead, so that a
   * client sending ever new lists cannot make the snapshot hold them.
   */
  private final Map<ResourceType, Map<RequestedNames, String>> computed =
      new java.util.EnumMap<>(ResourceType.class);
  static final int MAX_MEMO_NAMES = 200_000;
  private final java.util.concurrent.atomic.AtomicLong memoNames =
      new java.util.concurrent.atomic.AtomicLong();

  NamedVersionSnapshot(SnapshotResources<Cluster> clusters,
      SnapshotResources<ClusterLoadAssignment> endpoints, SnapshotResources<Listener> listeners,
      SnapshotResources<RouteConfiguration> routes, Map<ResourceType, Map<String, Resource>> byType,
      EndpointVersions endpointVersions) {
    this.clusters = clusters;
    this.endpoints = endpoints;
    this.listeners = listeners;
    this.routes = routes;
    this.byType = byType;
    this.endpointVersions = endpointVersions;
    for (ResourceType type : ResourceType.values()) {
      computed.put(type, new java.util.concurrent.ConcurrentHashMap<>());
    }
  }

  Map<String, Resource> hashed(ResourceType type) {
    return byType.getOrDefault(type, Map.of());
  }

  /** One type as java-control-plane holds it, with the type's version. */
  SnapshotResources<?> held(ResourceType type) {
    return switch (type) {
      case CLUSTER -> clusters;
      case ENDPOINT -> endpoints;
      case LISTENER -> listeners;
      case ROUTE -> routes;
      default -> NO_SECRETS;
    };
  }

  @Override
  public String version(ResourceType type, List<String> resourceNames) {
    if (resourceNames == null || resourceNames.isEmpty()) {
      return held(type).version();
    }
    return version(type, RequestedNames.of(resourceNames));
  }

  /** The version for a list of names, as {@link #version(ResourceType, List)}. */
  public String version(ResourceType type, RequestedNames names) {
    if (names.names().isEmpty()) {
      return held(type).version();
    }
    Map<RequestedNames, String> memo = computed.get(type);
    String version = memo.get(names);
    if (version != null) {
      return version;
    }
    if (memoNames.get() + names.names().size() > MAX_MEMO_NAMES) {
      return namedVersion(type, names.names());
    }
    return memo.computeIfAbsent(names, n -> {
      memoNames.addAndGet(n.names().size());
      return namedVersion(type, n.names());
    });
  }

  private String namedVersion(ResourceType type, List<String> resourceNames) {
    Map<String, Resource> byName = hashed(type);
    TreeMap<String, String> hashes = new TreeMap<>();
    for (String name : resourceNames) {
      Resource resource = byName.get(name);
      // An absent name is part of the version too: the version moves when it appears.
      hashes.put(name, resource == null ? "absent" : resource.contentHash());
    }
    String version = ContentVersion.ofNamed(hashes);
    if (type == ResourceType.ENDPOINT) {
      endpointVersions.record(version, resourceNames, byName);
    }
    return version;
  }

  @Override
  public String version(String typeUrl, List<String> resourceNames) {
    ResourceType type = Resources.TYPE_URLS_TO_RESOURCE_TYPE.get(typeUrl);
    return type == null ? "" : version(type, resourceNames);
  }

  // v3.Snapshot implements this with a return type javac does not see as overriding the base
  // class's; the raw type satisfies both.
  @Override
  @SuppressWarnings("rawtypes")
  public Map versionedResources(ResourceType type) {
    return held(type).versionedResources();
  }

  @Override
  public SnapshotResources<Cluster> clusters() {
    return clusters;
  }

  @Override
  public SnapshotResources<ClusterLoadAssignment> endpoints() {
    return endpoints;
  }

  @Override
  public SnapshotResources<Listener> listeners() {
    return listeners;
  }

  @Override
  public SnapshotResources<RouteConfiguration> routes() {
    return routes;
  }

  @Override
  public SnapshotResources<Secret> secrets() {
    return NO_SECRETS;
  }
}
