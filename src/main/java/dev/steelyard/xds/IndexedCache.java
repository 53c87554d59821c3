package dev.steelyard.xds;

import com.google.protobuf.Message;
import dev.steelyard.translate.ProxyGroup;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.WatchCancelledException;
import io.envoyproxy.controlplane.cache.XdsRequest;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state-of-the-world cache: one snapshot per proxy group (a kind, and a sidecar's scope),
 * and the open watches of its proxies.
 * It answers like java-control-plane's {@code SimpleCache} (a watch is answered when the version
 * for the names it asks for differs from the one it holds, or when it asks for a resource it was
 * not sent), with two differences:
 *
 * <ul>
 *   <li>Open watches are indexed by the names they ask for and the version they hold. A push
 *       computes the version and the response once per distinct list of names, and visits only
 *       the watches whose version changed. {@code SimpleCache} visits every watch of every type
 *       on every push and builds each response anew: with 1,000 proxies that was most of a
 *       push's work on the publisher thread (bench/README.md).
 *   <li>A request naming a resource the snapshot lacks (a deleted app, a mistyped
 *       {@code xds:///} target) is answered with the resources that exist, which is what state
 *       of the world means; {@code SimpleCache} in ADS mode answers nothing then and drops the
 *       watch, which froze every other name of that type for the client.
 * </ul>
 *
 * <p>Responses are sent outside the lock, in type order (clusters, endpoints, listeners,
 * scoped routes, routes: {@link XdsType}), on the thread that set the snapshot or created the
 * watch.
 */
public final class IndexedCache {

  private static final Logger log = LoggerFactory.getLogger(IndexedCache.class);

  private static final List<XdsType> PUSH_ORDER = List.of(XdsType.values());

  /** One proxy group: its snapshot and open watches, guarded by the group's monitor. */
  private static final class Group {
    NamedVersionSnapshot snapshot;
    /** Per type: by the names asked for, by the version held, the open watches. */
    final Map<XdsType, Map<RequestedNames, Map<String, Set<Watch>>>> open =
        new EnumMap<>(XdsType.class);

    Group() {
      for (XdsType type : PUSH_ORDER) {
        open.put(type, new HashMap<>());
      }
    }
  }

  private record Due(Watch watch, Collection<? extends Message> resources, String version) {}

  /**
   * Distinct sidecar scopes served at most: each is a snapshot of its own (of the apps in it
   * only), rebuilt by a publish that changes one of them. Scopes are remembered until restart,
   * so a sidecar that reconnects finds its snapshot; fleets declare few distinct ones (one per
   * calling app).
   */
  public static final int MAX_SCOPED_GROUPS = 1_000;

  private final Map<ProxyGroup, Group> groups = new ConcurrentHashMap<>();
  private final HeldVersions heldVersions;
  private volatile Runnable onNewGroup = () -> {};

  /** {@code heldVersions} learns what each named EDS and RDS version sent stands for. */
  public IndexedCache(HeldVersions heldVersions) {
    this.heldVersions = heldVersions;
  }

  private Group group(ProxyGroup proxies) {
    return groups.computeIfAbsent(proxies, k -> new Group());
  }

  /** Called (on a stream's thread) when a proxy of a group not seen before connects. */
  public void onNewGroup(Runnable listener) {
    this.onNewGroup = listener;
  }

  /**
   * Whether proxies of {@code proxies} can be served: every unscoped group can, and up to
   * {@link #MAX_SCOPED_GROUPS} scoped ones. A group admitted the first time has no snapshot
   * until the publisher builds one ({@link #onNewGroup}); its watches wait for it.
   */
  boolean admit(ProxyGroup proxies) {
    if (groups.containsKey(proxies) || !proxies.scoped()) {
      return true;
    }
    synchronized (groups) {
      if (groups.containsKey(proxies)) {
        return true;
      }
      if (groups.keySet().stream().filter(ProxyGroup::scoped).count() >= MAX_SCOPED_GROUPS) {
        return false;
      }
      group(proxies);
    }
    onNewGroup.run();
    return true;
  }

  /** The scoped groups proxies have connected with since start. */
  public List<ProxyGroup> scopedGroups() {
    return groups.keySet().stream().filter(ProxyGroup::scoped).toList();
  }

  /** The snapshot the proxies of {@code proxies} are served, or null before the first. */
  public NamedVersionSnapshot getSnapshot(ProxyGroup proxies) {
    Group group = groups.get(proxies);
    if (group == null) {
      return null;
    }
    synchronized (group) {
      return group.snapshot;
    }
  }

  /** Sets the snapshot of {@code proxies} and answers every open watch whose version changed. */
  public void setSnapshot(ProxyGroup proxies, NamedVersionSnapshot snapshot) {
    Group group = group(proxies);
    // The versions of the lists of names being watched are computed (and memoized by the
    // snapshot) before the lock is taken: proxies open watches under the same lock, on their
    // connections' event loops, and an Envoy's endpoints version hashes 150 names.
    List<Map.Entry<XdsType, RequestedNames>> watched = new ArrayList<>();
    synchronized (group) {
      group.open.forEach((type, byNames) ->
          byNames.keySet().forEach(names -> watched.add(Map.entry(type, names))));
    }
    for (Map.Entry<XdsType, RequestedNames> entry : watched) {
      snapshot.version(entry.getKey(), entry.getValue());
    }
    List<Due> due = new ArrayList<>();
    synchronized (group) {
      group.snapshot = snapshot;
      for (XdsType type : PUSH_ORDER) {
        Iterator<Map.Entry<RequestedNames, Map<String, Set<Watch>>>> byNames =
            group.open.get(type).entrySet().iterator();
        while (byNames.hasNext()) {
          Map.Entry<RequestedNames, Map<String, Set<Watch>>> entry = byNames.next();
          RequestedNames names = entry.getKey();
          String version = snapshot.version(type, names);
          Collection<? extends Message> resources = null;
          Iterator<Map.Entry<String, Set<Watch>>> byVersion = entry.getValue().entrySet().iterator();
          while (byVersion.hasNext()) {
            Map.Entry<String, Set<Watch>> held = byVersion.next();
            if (held.getKey().equals(version)) {
              continue;
            }
            if (resources == null) {
              resources = resources(snapshot, type, names.names());
              remember(snapshot, type, names, version);
            }
            for (Watch watch : held.getValue()) {
              due.add(new Due(watch, resources, version));
            }
            byVersion.remove();
          }
          if (entry.getValue().isEmpty()) {
            byNames.remove();
          }
        }
      }
    }
    for (Due d : due) {
      try {
        respond(d.watch(), d.resources(), d.version());
      } catch (RuntimeException e) {
        // One broken stream (a call closed under us) must not cost every later proxy its
        // update: those watches have already left the index.
        log.warn("could not send {} to a proxy of {}", d.watch().request().getTypeUrl(),
            proxies.label(), e);
      }
    }
  }

  /**
   * A watch for a proxy of {@code proxies}, answered at once if the snapshot has something it
   * lacks, else when a snapshot changes what it asks for; as java-control-plane's
   * {@code ConfigWatcher.createWatch}, with the stream's group and the request's shared names.
   * {@code holdsAll}: the proxy holds every name it asks for (known to the caller), so
   * {@code knownResourceNames} need not be looked through.
   */
  Watch createWatch(ProxyGroup proxies, boolean ads, XdsRequest request, RequestedNames names,
      Set<String> knownResourceNames, boolean holdsAll, Consumer<Response> responseConsumer,
      boolean hasClusterChanged, boolean allowDefaultEmptyEdsUpdate) {
    XdsType type = XdsType.ofTypeUrl(request.getTypeUrl());
    Watch watch = new Watch(ads, allowDefaultEmptyEdsUpdate, request, responseConsumer);
    if (type == null) {
      // Secrets, or a type this server has never heard of: nothing will ever be sent for it,
      // and the client's other types carry on.
      return watch;
    }
    Group group = group(proxies);
    NamedVersionSnapshot snapshot;
    String version;
    synchronized (group) {
      snapshot = group.snapshot;
      version = snapshot == null ? null : snapshot.version(type, names);
      if (snapshot == null || (request.getVersionInfo().equals(version)
          && !asksForNew(snapshot, type, names, knownResourceNames, holdsAll,
              hasClusterChanged))) {
        open(group, type, names, request.getVersionInfo(), watch);
        return watch;
      }
    }
    remember(snapshot, type, names, version);
    respond(watch, resources(snapshot, type, names.names()), version);
    return watch;
  }

  /**
   * Records what a named endpoints or routes version about to be sent stands for, so that the
   * proxy's ACK of it can be answered with only what changed (XdsStreams).
   */
  private void remember(NamedVersionSnapshot snapshot, XdsType type, RequestedNames names,
      String version) {
    if ((type == XdsType.ENDPOINTS || type == XdsType.ROUTES) && !names.names().isEmpty()) {
      heldVersions.record(type, version, names, snapshot.hashed(type));
    }
  }

  /**
   * Whether a watch at the current version must be answered anyway: it names a resource the
   * proxy was not sent and the snapshot has, or clusters went out on its stream since its last
   * endpoints (a recreated cluster waits for its assignment).
   */
  private static boolean asksForNew(NamedVersionSnapshot snapshot, XdsType type,
      RequestedNames names, Set<String> known, boolean holdsAll, boolean hasClusterChanged) {
    if (holdsAll) {
      return hasClusterChanged && type == XdsType.ENDPOINTS;
    }
    Map<String, NamedVersionSnapshot.Resource> existing = snapshot.hashed(type);
    boolean sameNames = known.size() == names.distinct();
    for (String name : names.names()) {
      if (!known.contains(name)) {
        sameNames = false;
        if (existing.containsKey(name)) {
          return true;
        }
      }
    }
    return sameNames && hasClusterChanged && type == XdsType.ENDPOINTS;
  }

  private static void open(Group group, XdsType type, RequestedNames names, String held,
      Watch watch) {
    group.open.get(type).computeIfAbsent(names, n -> new HashMap<>())
        .computeIfAbsent(held, v -> new LinkedHashSet<>()).add(watch);
    // A cancelled watch (new request of the type, stream closed) leaves the index.
    Runnable remove = () -> {
      synchronized (group) {
        Map<String, Set<Watch>> byVersion = group.open.get(type).get(names);
        Set<Watch> watches = byVersion == null ? null : byVersion.get(held);
        if (watches != null && watches.remove(watch) && watches.isEmpty()) {
          byVersion.remove(held);
          if (byVersion.isEmpty()) {
            group.open.get(type).remove(names);
          }
        }
      }
    };
    watch.setStop(remove);
    if (watch.isCancelled()) {
      remove.run();
    }
  }

  /** The resources a request asks for that exist, in its order; a wildcard gets them all. */
  private static Collection<? extends Message> resources(NamedVersionSnapshot snapshot,
      XdsType type, List<String> names) {
    if (names.isEmpty()) {
      return snapshot.resources(type).values();
    }
    Map<String, NamedVersionSnapshot.Resource> byName = snapshot.hashed(type);
    List<Message> found = new ArrayList<>(names.size());
    for (String name : names) {
      NamedVersionSnapshot.Resource resource = byName.get(name);
      if (resource != null) {
        found.add(resource.resource());
      }
    }
    return found;
  }

  private static void respond(Watch watch, Collection<? extends Message> resources,
      String version) {
    try {
      watch.respond(Response.create(watch.request(), resources, version));
    } catch (WatchCancelledException e) {
      // The stream moved on or closed; its next request opens a new watch.
    }
  }
}
