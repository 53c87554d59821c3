package dev.steelyard.publish;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import com.google.protobuf.Internal;
import java.util.HashSet;
import java.util.List;

/**
 * One distinct list of requested resource names, shared by every request that names them.
 * {@link IndexedCache} groups open watches by it and snapshots memoize versions by it. An Envoy
 * names every cluster for EDS (150 in a 50-app mesh) and all Envoys name the same ones, so
 * hashing and comparing those lists once per watch and push was most of a push's work; a
 * request's list is now mapped to its shared instance once, by identity.
 */
final class RequestedNames {

  /** By the identity of a request's own (immutable) list; an entry goes with its request. */
  private static final Cache<List<String>, RequestedNames> BY_REQUEST_LIST =
      CacheBuilder.newBuilder().weakKeys().build();
  private static final Interner<RequestedNames> SHARED = Interners.newWeakInterner();

  private final List<String> names;
  private final int hash;
  /** Counted when first asked, on the shared instance only: -1 until then. */
  private volatile int distinct = -1;

  private RequestedNames(List<String> names) {
    this.names = names;
    this.hash = names.hashCode();
  }

  static RequestedNames of(List<String> requested) {
    // Only a list that can no longer change may be remembered by identity: a request's.
    boolean frozen = requested instanceof Internal.ProtobufList<?> list && !list.isModifiable();
    RequestedNames known = frozen ? BY_REQUEST_LIST.getIfPresent(requested) : null;
    if (known == null) {
      // A copy: holding the request's own list would keep that weak key reachable forever.
      known = SHARED.intern(new RequestedNames(List.copyOf(requested)));
      if (frozen) {
        BY_REQUEST_LIST.put(requested, known);
      }
    }
    return known;
  }

  List<String> names() {
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
