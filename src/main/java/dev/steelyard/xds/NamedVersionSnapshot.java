package dev.steelyard.xds;

import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.Resources.ResourceType;
import io.envoyproxy.controlplane.cache.ResourceVersionResolver;
import io.envoyproxy.controlplane.cache.SnapshotResources;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import dev.steelyard.translate.ProxyResources;
import io.envoyproxy.controlplane.cache.VersionedResource;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A snapshot whose version, for a request that names its resources, is the content hash of
 * those resources only. {@link IndexedCache} pushes to a watch when this version differs from the
 * one the proxy has, so a gRPC client that names only its own app's listener, routes, clusters
 * and endpoints is not sent anything when another app changes. Being content hashes, these
 * versions are the same after a restart and on every replica; a name the snapshot does not
 * have counts as absent. Wildcard requests (Envoy's CDS and LDS) get the version of the whole
 * type.
 *
 * <p>This is where every version is made ({@link #next}: each resource's content hash, each
 * type's version; {@link #version}: the version of a list of names, memoized). Reading a
 * version changes nothing else: what a sent EDS version stands for is recorded by the cache
 * when it sends it ({@link HeldVersions}).
 */
public final class NamedVersionSnapshot extends Snapshot {

  /** One resource with its content hash; the instance is reused while the content stays. */
  record Resource(String contentHash, Message resource) {}

  private static final SnapshotResources<Secret> NO_SECRETS =
      new TypeResources<>(Map.of(), Map.of(), "");

  private final SnapshotResources<Cluster> clusters;
  private final SnapshotResources<ClusterLoadAssignment> endpoints;
  private final SnapshotResources<Listener> listeners;
  private final SnapshotResources<RouteConfiguration> routes;
  private final SnapshotResources<ScopedRouteConfiguration> scopedRoutes;
  private final Map<XdsType, Map<String, Resource>> byType;
  /**
   * Versions already computed, by the list of names asked for. Proxies ask for few distinct
   * lists (every Envoy the same clusters, each gRPC client its app's), so this stays small;
   * past {@link #MAX_MEMO_NAMES} names a version is computed each time instead, so that a
   * client sending ever new lists cannot make the snapshot hold them.
   */
  private final Map<XdsType, Map<RequestedNames, String>> computed =
      new java.util.EnumMap<>(XdsType.class);
  static final int MAX_MEMO_NAMES = 200_000;
  private final java.util.concurrent.atomic.AtomicLong memoNames =
      new java.util.concurrent.atomic.AtomicLong();

  /**
   * {@link #namesEveryCluster} already answered, by the list of endpoint names. Every Envoy of
   * a group asks for the same list, so one answer serves hundreds of proxies; past
   * {@link #MAX_COVERAGE_MEMOS} lists an answer is computed each time.
   */
  private final Map<RequestedNames, Boolean> coverage =
      new java.util.concurrent.ConcurrentHashMap<>();
  static final int MAX_COVERAGE_MEMOS = 1000;

  NamedVersionSnapshot(SnapshotResources<Cluster> clusters,
      SnapshotResources<ClusterLoadAssignment> endpoints, SnapshotResources<Listener> listeners,
      SnapshotResources<RouteConfiguration> routes,
      SnapshotResources<ScopedRouteConfiguration> scopedRoutes,
      Map<XdsType, Map<String, Resource>> byType) {
    this.clusters = clusters;
    this.endpoints = endpoints;
    this.listeners = listeners;
    this.routes = routes;
    this.scopedRoutes = scopedRoutes;
    this.byType = byType;
    for (XdsType type : XdsType.values()) {
      computed.put(type, new java.util.concurrent.ConcurrentHashMap<>());
    }
  }

  /**
   * The snapshot of {@code built}, for proxies that were served {@code previous} (null for the
   * first). A resource equal to the one of the same name in {@code previous} keeps that
   * instance and its hash: comparing is much cheaper than serializing and hashing it again, and
   * the instance carries its memoized hash code and the serializer's cached Any into the next
   * push. A type whose version did not change keeps its holder.
   */
  public static NamedVersionSnapshot next(NamedVersionSnapshot previous, ProxyResources built) {
    Tracked<Cluster> clusters = track(previous, XdsType.CLUSTERS, built.clusters());
    Tracked<ClusterLoadAssignment> endpoints =
        track(previous, XdsType.ENDPOINTS, built.endpoints());
    Tracked<Listener> listeners = track(previous, XdsType.LISTENERS, built.listeners());
    Tracked<ScopedRouteConfiguration> scopedRoutes =
        track(previous, XdsType.SCOPED_ROUTES, built.scopedRoutes());
    Tracked<RouteConfiguration> routes = track(previous, XdsType.ROUTES, built.routes());
    Map<XdsType, Map<String, Resource>> byType = new EnumMap<>(XdsType.class);
    byType.put(XdsType.CLUSTERS, clusters.byName());
    byType.put(XdsType.ENDPOINTS, endpoints.byName());
    byType.put(XdsType.LISTENERS, listeners.byName());
    byType.put(XdsType.SCOPED_ROUTES, scopedRoutes.byName());
    byType.put(XdsType.ROUTES, routes.byName());
    return new NamedVersionSnapshot(clusters.held(), endpoints.held(), listeners.held(),
        routes.held(), scopedRoutes.held(), byType);
  }

  /** One type's resources, each with its content hash, and the type's version. */
  private record Tracked<M extends Message>(SnapshotResources<M> held,
      Map<String, Resource> byName) {}

  private static <M extends Message> Tracked<M> track(NamedVersionSnapshot previous,
      XdsType type, List<M> built) {
    Map<String, Resource> before = previous == null ? Map.of() : previous.hashed(type);
    if (previous != null && sameInOrder(previous.held(type).resources().values(), built)) {
      // Translation reuses an unchanged app's instances (TranslationCache): a type none of
      // whose resources is new keeps its holder, hashes and name map without rebuilding them.
      @SuppressWarnings("unchecked")
      SnapshotResources<M> unchanged = (SnapshotResources<M>) previous.held(type);
      return new Tracked<>(unchanged, before);
    }
    Map<String, Resource> now = new HashMap<>();
    SortedMap<String, String> hashes = new TreeMap<>();
    List<Resource> inOrder = new ArrayList<>(built.size());
    for (M resource : built) {
      String name = XdsType.nameOf(resource);
      Resource old = before.get(name);
      Resource kept = old != null && old.resource().equals(resource) ? old
          : new Resource(ContentVersion.of(resource), resource);
      now.put(name, kept);
      hashes.put(name, kept.contentHash());
      inOrder.add(kept);
    }
    String version = ContentVersion.ofNamed(hashes);
    Map<String, Resource> byName = Map.copyOf(now);
    if (previous != null && previous.held(type).version().equals(version)) {
      @SuppressWarnings("unchecked")
      SnapshotResources<M> unchanged = (SnapshotResources<M>) previous.held(type);
      return new Tracked<>(unchanged, byName);
    }
    // The type as java-control-plane holds it, made from the hashes above: Snapshot.create
    // would hash every resource again (SHA-256 of its class name and hash code), for every
    // kind on every change, and it cannot name a scoped route.
    Map<String, VersionedResource<M>> versioned = new java.util.LinkedHashMap<>();
    Map<String, M> resources = new java.util.LinkedHashMap<>();
    for (Resource kept : inOrder) {
      @SuppressWarnings("unchecked")
      M instance = (M) kept.resource();
      String name = XdsType.nameOf(instance);
      versioned.put(name, VersionedResource.create(instance, kept.contentHash()));
      resources.put(name, instance);
    }
    return new Tracked<>(new TypeResources<>(versioned, resources, version), byName);
  }

  /** One type's resources by name, in the order built, with the type's version. */
  private static final class TypeResources<M extends Message> extends SnapshotResources<M> {
    private final Map<String, VersionedResource<M>> versioned;
    private final Map<String, M> resources;
    private final String version;

    TypeResources(Map<String, VersionedResource<M>> versioned, Map<String, M> resources,
        String version) {
      this.versioned = java.util.Collections.unmodifiableMap(versioned);
      this.resources = java.util.Collections.unmodifiableMap(resources);
      this.version = version;
    }

    @Override
    public Map<String, VersionedResource<M>> versionedResources() {
      return versioned;
    }

    @Override
    public Map<String, M> resources() {
      return resources;
    }

    @Override
    public ResourceVersionResolver resourceVersionResolver() {
      return names -> version;
    }
  }

  /**
   * Whether {@code built} is exactly the resources held, instance for instance and in the order
   * they were built: compared by position, without looking a name up (20,000 resources per
   * kind at 1,000 apps, on every publish).
   */
  private static boolean sameInOrder(java.util.Collection<? extends Message> held,
      List<? extends Message> built) {
    if (held.size() != built.size()) {
      return false;
    }
    int i = 0;
    for (Message resource : held) {
      if (resource != built.get(i++)) {
        return false;
      }
    }
    return true;
  }

  /** The version of a whole type (what a wildcard request is versioned by). */
  public String wholeVersion(XdsType type) {
    return held(type).version();
  }

  Map<String, Resource> hashed(XdsType type) {
    return byType.getOrDefault(type, Map.of());
  }

  /** One type as java-control-plane holds it, with the type's version. */
  SnapshotResources<?> held(XdsType type) {
    return switch (type) {
      case CLUSTERS -> clusters;
      case ENDPOINTS -> endpoints;
      case LISTENERS -> listeners;
      case SCOPED_ROUTES -> scopedRoutes;
      case ROUTES -> routes;
    };
  }

  @Override
  public String version(ResourceType type, List<String> resourceNames) {
    XdsType served = XdsType.of(type);
    if (served == null) {
      return NO_SECRETS.version();
    }
    if (resourceNames == null || resourceNames.isEmpty()) {
      return held(served).version();
    }
    return version(served, RequestedNames.of(resourceNames));
  }

  /** The version a proxy asking for {@code names} (none: a wildcard) is sent. */
  public String version(XdsType type, RequestedNames names) {
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

  /**
   * Whether {@code endpoints} names every cluster of this snapshot: an Envoy takes all clusters
   * and ACKs new ones before it asked for their assignments (a cluster without them answers
   * 503), so it has applied a snapshot only once its EDS request names them all.
   */
  public boolean namesEveryCluster(RequestedNames endpoints) {
    Boolean known = coverage.get(endpoints);
    if (known != null) {
      return known;
    }
    java.util.Set<String> asked = endpoints.nameSet();
    boolean all = true;
    for (String cluster : clusters.resources().keySet()) {
      if (!asked.contains(cluster)) {
        all = false;
        break;
      }
    }
    if (coverage.size() < MAX_COVERAGE_MEMOS) {
      coverage.put(endpoints, all);
    }
    return all;
  }

  private String namedVersion(XdsType type, List<String> resourceNames) {
    Map<String, Resource> byName = hashed(type);
    TreeMap<String, String> hashes = new TreeMap<>();
    for (String name : resourceNames) {
      Resource resource = byName.get(name);
      // An absent name is part of the version too: the version moves when it appears.
      hashes.put(name, resource == null ? "absent" : resource.contentHash());
    }
    return ContentVersion.ofNamed(hashes);
  }

  @Override
  public String version(String typeUrl, List<String> resourceNames) {
    XdsType type = XdsType.ofTypeUrl(typeUrl);
    if (type == null) {
      return "";
    }
    return resourceNames == null || resourceNames.isEmpty() ? held(type).version()
        : version(type, RequestedNames.of(resourceNames));
  }

  // v3.Snapshot implements this with a return type javac does not see as overriding the base
  // class's; the raw type satisfies both.
  @Override
  @SuppressWarnings("rawtypes")
  public Map versionedResources(ResourceType type) {
    XdsType served = XdsType.of(type);
    return served == null ? NO_SECRETS.versionedResources() : held(served).versionedResources();
  }

  /** The resources of {@code type} by name, in the order they were built. */
  public Map<String, ? extends Message> resources(XdsType type) {
    return held(type).resources();
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
