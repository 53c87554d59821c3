package dev.steelyard.publish;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import com.google.common.collect.Interner;
import com.google.common.collect.Interners;
import com.google.protobuf.Internal;
import java.util.List;
import java.util.Set;

/**
 * One distinct list of requested resource names, shared by every request that names them. The
 * cache asks a snapshot for the version of every open watch's names on every push; an Envoy
 * names all 150 clusters of a 50-app mesh for EDS, so hashing and comparing those lists per watch
 * was most of a push's work. A request's list is mapped to its shared instance once, by
 * identity, and the snapshot's memo is then keyed by that instance.
 */
final class RequestedNames {

  /** By the identity of a request's own (immutable) list; an entry goes with its request. */
  private static final Cache<List<String>, RequestedNames> BY_REQUEST_LIST =
      CacheBuilder.newBuilder().weakKeys().build();
  private static final Interner<RequestedNames> SHARED = Interners.newWeakInterner();

  private final List<String> names;
  private final int distinct;
  private final int hash;

  private RequestedNames(List<String> names) {
    this.names = names;
    this.distinct = Set.copyOf(names).size();
    this.hash = names.hashCode();
  }

  static RequestedNames of(List<String> requested) {
    // Only a list that can no longer change may be remembered by identity: a request's.
    boolean frozen = requested instanceof Internal.ProtobufList<?> list && !list.isModifiable();
    RequestedNames known = frozen ? BY_REQUEST_LIST.getIfPresent(requested) : null;
    if (known == null) {
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
    return distinct;
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
