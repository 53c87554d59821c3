package dev.steelyard.xds;

import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.Response;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a named version of endpoints or routes stands for: the names it was computed over and
 * the resources they had. Named versions are content hashes, so a proxy that accepted version V
 * holds exactly these resources; {@link XdsStreams} then sends it only the ones that differ.
 * Both types allow it: a state-of-the-world client keeps an assignment or a route configuration
 * a response leaves out (listeners, clusters and scoped routes are full state). An Envoy names
 * one assignment per cluster, and with per-app routes one route configuration per app.
 *
 * <p>Bounded by the names the entries hold (each keeps the resources of its own names alive):
 * a proxy whose version has been evicted (or was never seen, as after a restart) gets
 * everything it asks for, which is always correct, only larger. A push adds one entry per
 * distinct list of names whose content changed. Every unscoped Envoy names the same clusters,
 * but each gRPC client names its app's and each scoped sidecar its scope's, so a mesh of 1,000
 * apps has thousands of distinct lists, most of them pushed rarely: a cap of 256 entries
 * evicted a scoped sidecar's version long before its next change (the benchmark then sent it
 * every assignment again). A client can ask for long lists of names that do not exist, and
 * each distinct list is a version: hence the bound on names.
 */
public final class HeldVersions {

  /** The resources a proxy that accepted a version holds. */
  static final class Held {
    /** Weakly: the set below is what this needs to hold; the list may go with its streams. */
    private final WeakReference<RequestedNames> requested;
    private final Set<String> names;
    private final Map<String, NamedVersionSnapshot.Resource> byName;
    /**
     * What {@link #changed} returned, by the version of the response: every Envoy that holds
     * this version gets the same response on a push, so the filter runs once, not per proxy.
     * A named version is the content hash of exactly the names and assignments it covers.
     */
    private final Map<String, List<Message>> changedByResponseVersion = new ConcurrentHashMap<>();

    Held(RequestedNames requested, Map<String, NamedVersionSnapshot.Resource> byName) {
      this.requested = new WeakReference<>(requested);
      this.names = requested.nameSet();
      this.byName = byName;
    }

    Set<String> names() {
      return names;
    }

    /**
     * Whether a request for {@code asked} names exactly what this version was computed over
     * (the shared instance: {@link RequestedNames}), so the proxy holds every name it asks for.
     * An ACK names what it acknowledges, so this is the rule, and it spares checking each of an
     * Envoy's 3,000 cluster or 1,000 route names on every ACK.
     */
    boolean namesExactly(RequestedNames asked) {
      return requested.get() == asked;
    }

    /** The resources of {@code response} that the proxy does not hold. */
    List<Message> changed(Response response) {
      List<Message> memo = changedByResponseVersion.get(response.version());
      if (memo != null) {
        return memo;
      }
      List<Message> changed = new ArrayList<>();
      for (Message resource : response.resources()) {
        String name = XdsType.nameOf(resource);
        NamedVersionSnapshot.Resource held = names.contains(name) ? byName.get(name) : null;
        // Unchanged resources keep their instance across snapshots (NamedVersionSnapshot.next).
        if (held == null || held.resource() != resource) {
          changed.add(resource);
        }
      }
      if (changedByResponseVersion.size() > 16) {
        changedByResponseVersion.clear();
      }
      changedByResponseVersion.put(response.version(), List.copyOf(changed));
      return changed;
    }
  }

  /** Names held over all entries: some 40 MB of names and resource references at most. */
  static final int MAX_NAMES = 500_000;
  /** Entries at most, whatever their size. */
  static final int MAX_ENTRIES = 16_384;

  private final Map<String, Held> byVersion;
  private final int maxNames;
  private long names;

  public HeldVersions() {
    this(MAX_ENTRIES, MAX_NAMES);
  }

  HeldVersions(int capacity, int maxNames) {
    this.maxNames = maxNames;
    this.byVersion = new LinkedHashMap<>(capacity, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Held> eldest) {
        if (size() > capacity || names > HeldVersions.this.maxNames) {
          names -= eldest.getValue().names.size();
          return true;
        }
        return false;
      }
    };
  }

  synchronized void record(XdsType type, String version, RequestedNames requested,
      Map<String, NamedVersionSnapshot.Resource> byName) {
    String key = key(type, version);
    if (requested.names().size() > maxNames / 4 || byVersion.containsKey(key)) {
      // A list this long is not remembered: the proxy is sent whole responses, still correct.
      return;
    }
    // Only the resources of these names: the snapshot's whole map would keep every resource
    // of every remembered snapshot alive.
    Map<String, NamedVersionSnapshot.Resource> own =
        new HashMap<>(requested.names().size() * 2);
    for (String name : requested.names()) {
      NamedVersionSnapshot.Resource resource = byName.get(name);
      if (resource != null) {
        own.put(name, resource);
      }
    }
    Held held = new Held(requested, own);
    names += held.names.size();
    byVersion.put(key, held);
    // An insertion evicts one entry at most; a few small ones may have to go for a large one.
    var eldest = byVersion.entrySet().iterator();
    while (names > maxNames && eldest.hasNext()) {
      names -= eldest.next().getValue().names.size();
      eldest.remove();
    }
  }

  /** What a proxy that accepted {@code version} holds, or null if that is not known here. */
  synchronized Held held(XdsType type, String version) {
    return byVersion.get(key(type, version));
  }

  private static String key(XdsType type, String version) {
    return type.ordinal() + version;
  }
}
