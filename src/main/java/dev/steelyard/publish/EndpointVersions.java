package dev.steelyard.publish;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a named endpoints version stands for: the names it was computed over and the assignments
 * they had. Named versions are content hashes, so a proxy that accepted version V holds exactly
 * these assignments; {@link StreamAwareWatcher} then sends it only the ones that differ.
 *
 * <p>Bounded: a proxy whose version has been evicted (or was never seen, as after a restart)
 * gets everything it asks for, which is always correct, only larger.
 */
public final class EndpointVersions {

  /** The assignments a proxy that accepted a version holds. */
  record Held(Set<String> names, Map<String, NamedVersionSnapshot.Resource> byName) {

    /** Whether the proxy already holds {@code resource} under {@code name}. */
    boolean holds(String name, Object resource) {
      NamedVersionSnapshot.Resource held = names.contains(name) ? byName.get(name) : null;
      // Unchanged assignments keep their instance across snapshots (SnapshotPublisher).
      return held != null && held.resource() == resource;
    }
  }

  private final Map<String, Held> byVersion;

  public EndpointVersions() {
    this(4096);
  }

  EndpointVersions(int capacity) {
    this.byVersion = new LinkedHashMap<>(capacity, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Held> eldest) {
        return size() > capacity;
      }
    };
  }

  synchronized void record(String version, List<String> names,
      Map<String, NamedVersionSnapshot.Resource> byName) {
    byVersion.computeIfAbsent(version, v -> new Held(Set.copyOf(names), byName));
  }

  /** What a proxy that accepted {@code version} holds, or null if that is not known here. */
  synchronized Held held(String version) {
    return byVersion.get(version);
  }
}
