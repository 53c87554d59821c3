package dev.steelyard.xds;

import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import com.google.protobuf.Internal;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.util.HashSet;
import java.util.List;

/**
 * One distinct list of requested resource names, shared by every request that names them.
 * {@link IndexedCache} groups open watches by it and snapshots memoize versions by it. An Envoy
 * names every cluster for EDS (150 in a 50-app mesh), all Envoys name the same ones, and every
 * ACK names them again: a request is mapped to its shared instance once, as it arrives
 * ({@code XdsStreams}), and what is kept of it afterwards refers to the shared names, so the
 * strings parsed from each ACK die young instead of being copied from one GC to the next.
 */
public final class RequestedNames {

  private static final Interner<RequestedNames> SHARED = Interners.newWeakInterner();

  private final List<String> names;
  private volatile java.util.Set<String> nameSet;
  private final int hash;
  /** Counted when first asked, on the shared instance only: -1 until then. */
  private volatile int distinct = -1;
  /** A request carrying only these names, built when first asked. */
  private volatile DiscoveryRequest namesOnly;

  private RequestedNames(List<String> names) {
    this.names = names;
    this.hash = names.hashCode();
  }

  /** The shared instance for {@code requested}. */
  public static RequestedNames of(List<String> requested) {
    // A request's own list can no longer change, so the first one seen can become the shared
    // names without a copy; any other list is copied.
    boolean frozen = requested instanceof Internal.ProtobufList<?> list && !list.isModifiable();
    return SHARED.intern(new RequestedNames(frozen ? requested : List.copyOf(requested)));
  }

  /**
   * The shared instance for {@code requested}, which is most often {@code likely} (the names
   * the stream asked for last time: an ACK names again what it acknowledges). Comparing with
   * those spares hashing every name and looking the list up; at 1,000 route or 3,000 cluster
   * names per Envoy ACK, that was a tenth of a weight push's CPU.
   */
  public static RequestedNames of(List<String> requested, RequestedNames likely) {
    return likely != null && likely.names.equals(requested) ? likely : of(requested);
  }

  /** The names as a set, built once, for membership checks. */
  public java.util.Set<String> nameSet() {
    java.util.Set<String> set = nameSet;
    if (set == null) {
      set = java.util.Set.copyOf(names);
      nameSet = set;
    }
    return set;
  }

  public List<String> names() {
    return names;
  }

  /** How many different names: a request may repeat one. */
  int distinct() {
    int count = distinct;
    if (count < 0) {
      count = new HashSet<>(names).size();
      distinct = count;
    }
    return count;
  }

  /**
   * A request with these names and nothing else. A request built from it with
   * {@code toBuilder()} shares its name list instead of holding a list of its own.
   */
  DiscoveryRequest namesOnly() {
    DiscoveryRequest request = namesOnly;
    if (request == null) {
      request = DiscoveryRequest.newBuilder().addAllResourceNames(names).build();
      namesOnly = request;
    }
    return request;
  }

  @Override
  public boolean equals(Object o) {
    return this == o
        || (o instanceof RequestedNames other && hash == other.hash && names.equals(other.names));
  }

  @Override
  public int hashCode() {
    return hash;
  }
}
