package dev.steelyard.feedback;

import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.xds.Nack;
import dev.steelyard.xds.NamedVersionSnapshot;
import dev.steelyard.xds.ProxyEvent;
import dev.steelyard.xds.RequestedNames;
import dev.steelyard.xds.XdsType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * What every connected proxy has: its node, kind, the version it ACKed per resource type and its
 * last NACK. Fed by the xDS streams' {@link ProxyEvent}s; read by the admin API, the status
 * writer and the rollout engine.
 */
public final class ProxyRegistry implements Consumer<ProxyEvent> {

  private static final RequestedNames WILDCARD = RequestedNames.of(List.of());

  /** One stream, from its events. Maps are concurrent: ACKs and sends come on two threads. */
  private static final class Proxy {
    final ProxyEvent.Connected connected;
    final Map<XdsType, String> sent = new ConcurrentHashMap<>();
    final Map<XdsType, String> acked = new ConcurrentHashMap<>();
    /** The resource names of each ACK: named requests are versioned by what they name. */
    final Map<XdsType, RequestedNames> ackedNames = new ConcurrentHashMap<>();
    volatile Nack lastNack;
    /** Counts the stream's events: what it has applied can change only with the next one. */
    final AtomicLong events = new AtomicLong();
    volatile Answer applied;
    volatile Answer routesApplied;

    Proxy(ProxyEvent.Connected connected) {
      this.connected = connected;
    }

    long id() {
      return connected.streamId();
    }

    String nodeId() {
      return connected.node().getId();
    }

    ProxyKind kind() {
      return connected.kind();
    }

    ProxyGroup group() {
      return connected.group();
    }
  }

  /**
   * Whether a stream had applied {@code snapshot} when it had seen {@code events} events.
   * Snapshots are immutable, so the answer holds until the stream's next event: the rollout
   * engine asks every 200 ms per running flow, the admin API on every flow or split call, and
   * the publisher's stage waits every few milliseconds, while a stream's state changes only
   * when a push reaches it.
   */
  private record Answer(NamedVersionSnapshot snapshot, long events, boolean applied) {}

  private final Map<Long, Proxy> streams = new ConcurrentHashMap<>();
  /**
   * The streams of each node id: one, unless a reconnecting proxy's old stream lingers. Kept
   * with the streams rather than grouped on every read: the rollout engine and the publisher's
   * stage waits ask for the lagging proxies many times a second while a push goes out.
   */
  private final Map<String, List<Proxy>> byNode = new ConcurrentHashMap<>();

  @Override
  public void accept(ProxyEvent event) {
    if (event instanceof ProxyEvent.Connected connected) {
      Proxy proxy = new Proxy(connected);
      streams.put(connected.streamId(), proxy);
      byNode.compute(proxy.nodeId(), (id, list) -> {
        if (list == null) {
          return List.of(proxy);
        }
        List<Proxy> more = new ArrayList<>(list);
        more.add(proxy);
        return List.copyOf(more);
      });
      return;
    }
    if (event instanceof ProxyEvent.Disconnected) {
      Proxy gone = streams.remove(event.streamId());
      if (gone != null) {
        byNode.computeIfPresent(gone.nodeId(), (id, list) -> {
          List<Proxy> left = list.stream().filter(proxy -> proxy != gone).toList();
          return left.isEmpty() ? null : left;
        });
      }
      return;
    }
    Proxy proxy = streams.get(event.streamId());
    if (proxy == null) {
      return;
    }
    if (event instanceof ProxyEvent.Sent sent) {
      proxy.sent.put(sent.type(), sent.version());
    } else if (event instanceof ProxyEvent.Acked acked) {
      proxy.ackedNames.put(acked.type(), acked.names());
      proxy.acked.put(acked.type(), acked.version());
    } else if (event instanceof ProxyEvent.Nacked nacked) {
      proxy.lastNack = nacked.nack();
    }
    // After the state it changed: an answer computed from the state before has a lower count.
    proxy.events.incrementAndGet();
  }

  /**
   * Connected proxies, one per node id, sorted by it. Streams that share a node id are one
   * proxy, shown by its newest stream: a reconnecting proxy's old stream may linger until its
   * connection times out, and clients reusing one id must not count as many proxies.
   */
  public List<ProxyStatus> proxies() {
    List<ProxyStatus> proxies = new ArrayList<>();
    for (Proxy proxy : newestPerNode()) {
      var node = proxy.connected.node();
      var app = node.getMetadata().getFieldsMap().get(ProxyKind.APP_METADATA_KEY);
      proxies.add(new ProxyStatus(proxy.id(), node.getId(), node.getCluster(), proxy.group(),
          app == null ? "" : app.getStringValue(), node.getUserAgentName(),
          Map.copyOf(proxy.acked), ackedNames(proxy), Optional.ofNullable(proxy.lastNack),
          proxy.connected.at(), proxy.connected.peer(),
          Math.max(1, byNode.getOrDefault(node.getId(), List.of()).size())));
    }
    proxies.sort(Comparator.comparing(ProxyStatus::nodeId));
    return proxies;
  }

  /** The newest stream of each node id. */
  private Collection<Proxy> newestPerNode() {
    List<Proxy> newest = new ArrayList<>(byNode.size());
    for (List<Proxy> sharing : byNode.values()) {
      Proxy last = sharing.get(0);
      for (Proxy proxy : sharing) {
        last = proxy.id() > last.id() ? proxy : last;
      }
      newest.add(last);
    }
    return newest;
  }

  /** Per proxy kind: proxies (node ids), and how many ACKed what is published now. */
  public record Progress(int connected, int applied) {}

  /**
   * How far the published routes have reached, per proxy kind, one count per node id. The
   * admin API answers every weight change with this while the push is still going out, so it
   * does not build a status per proxy as {@link #proxies} does.
   */
  public Map<ProxyKind, Progress> routesProgress(Map<ProxyGroup, NamedVersionSnapshot> served) {
    Map<ProxyKind, int[]> counts = new EnumMap<>(ProxyKind.class);
    for (Proxy proxy : newestPerNode()) {
      int[] count = counts.computeIfAbsent(proxy.kind(), k -> new int[2]);
      count[0]++;
      if (routesApplied(proxy, served.get(proxy.group()))) {
        count[1]++;
      }
    }
    Map<ProxyKind, Progress> progress = new EnumMap<>(ProxyKind.class);
    counts.forEach((kind, count) -> progress.put(kind, new Progress(count[0], count[1])));
    return progress;
  }

  /**
   * Node ids of the connected proxies of {@code group} that have not applied {@code snapshot}.
   * A proxy has applied a snapshot when every type it was sent is ACKed at the snapshot's
   * version for the names it asked for. A proxy that takes all clusters (Envoy) must also have
   * asked for the endpoints of each: Envoy ACKs new clusters before their assignments arrive,
   * and a cluster without them answers 503.
   */
  public List<String> lagging(ProxyGroup group, NamedVersionSnapshot snapshot) {
    List<String> lagging = new ArrayList<>();
    for (Proxy proxy : newestPerNode()) {
      // A client that is not reading what it was sent cannot apply anything new: waiting for
      // it would only hold every change back by the stage timeout.
      if (!proxy.group().equals(group) || !proxy.connected.reading().reading()
          || applied(proxy, snapshot)) {
        continue;
      }
      lagging.add(proxy.nodeId());
    }
    return lagging;
  }

  private static boolean applied(Proxy proxy, NamedVersionSnapshot snapshot) {
    long events = proxy.events.get();
    Answer known = proxy.applied;
    if (known != null && known.snapshot() == snapshot && known.events() == events) {
      return known.applied();
    }
    boolean applied = appliedNow(proxy, snapshot);
    proxy.applied = new Answer(snapshot, events, applied);
    return applied;
  }

  private static boolean routesApplied(Proxy proxy, NamedVersionSnapshot snapshot) {
    long events = proxy.events.get();
    Answer known = proxy.routesApplied;
    if (known != null && known.snapshot() == snapshot && known.events() == events) {
      return known.applied();
    }
    boolean applied = ProxyStatus.applied(snapshot, XdsType.ROUTES,
        proxy.acked.get(XdsType.ROUTES), proxy.ackedNames.getOrDefault(XdsType.ROUTES, WILDCARD));
    proxy.routesApplied = new Answer(snapshot, events, applied);
    return applied;
  }

  private static boolean appliedNow(Proxy proxy, NamedVersionSnapshot snapshot) {
    Nack nack = proxy.lastNack;
    if (nack != null && nack.rejectedVersion().equals(proxy.sent.get(nack.type()))) {
      // It rejected what it was sent last and keeps its previous config: waiting for it
      // would only cost every change the stage timeout.
      return true;
    }
    for (XdsType type : proxy.sent.keySet()) {
      RequestedNames names = proxy.ackedNames.getOrDefault(type, WILDCARD);
      if (!ProxyStatus.applied(snapshot, type, proxy.acked.get(type), names)) {
        return false;
      }
    }
    RequestedNames clusters = proxy.ackedNames.get(XdsType.CLUSTERS);
    return clusters == null || !clusters.names().isEmpty() || snapshot.namesEveryCluster(
        proxy.ackedNames.getOrDefault(XdsType.ENDPOINTS, WILDCARD));
  }

  private static Map<XdsType, List<String>> ackedNames(Proxy proxy) {
    Map<XdsType, List<String>> names = new EnumMap<>(XdsType.class);
    proxy.ackedNames.forEach((type, requested) -> names.put(type, requested.names()));
    return Map.copyOf(names);
  }
}
