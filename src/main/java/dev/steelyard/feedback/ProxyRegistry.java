package dev.steelyard.feedback;

import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.xds.Nack;
import dev.steelyard.xds.NamedVersionSnapshot;
import dev.steelyard.xds.ProxyEvent;
import dev.steelyard.xds.RequestedNames;
import dev.steelyard.xds.XdsType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.function.Consumer;

/**
 * What every connected proxy has: its node, kind, the version it ACKed per resource type and its
 * last NACK. Fed by the xDS streams' {@link ProxyEvent}s; read by the admin API, the status
 * writer and the rollout engine.
 */
public final class ProxyRegistry implements Consumer<ProxyEvent> {

  private static final RequestedNames WILDCARD = RequestedNames.of(List.of());
  private static final int TYPES = XdsType.values().length;

  /**
   * What a stream was sent and runs, per type (indexed by ordinal). Replaced whole by each
   * event, so one read sees one consistent state, and an answer computed from it holds for as
   * long as the stream keeps it.
   */
  private static final class State {
    static final State NONE = new State(new String[TYPES], new String[TYPES],
        new RequestedNames[TYPES], null);

    final String[] sent;
    final String[] acked;
    /** The resource names of each ACK: named requests are versioned by what they name. */
    final RequestedNames[] ackedNames;
    final Nack lastNack;

    State(String[] sent, String[] acked, RequestedNames[] ackedNames, Nack lastNack) {
      this.sent = sent;
      this.acked = acked;
      this.ackedNames = ackedNames;
      this.lastNack = lastNack;
    }

    State withSent(XdsType type, String version) {
      String[] next = sent.clone();
      next[type.ordinal()] = version;
      return new State(next, acked, ackedNames, lastNack);
    }

    State withAcked(XdsType type, String version, RequestedNames names) {
      String[] versions = acked.clone();
      versions[type.ordinal()] = version;
      RequestedNames[] named = ackedNames.clone();
      named[type.ordinal()] = names;
      return new State(sent, versions, named, lastNack);
    }

    State withNack(Nack nack) {
      return new State(sent, acked, ackedNames, nack);
    }

    RequestedNames names(XdsType type) {
      RequestedNames names = ackedNames[type.ordinal()];
      return names == null ? WILDCARD : names;
    }
  }

  /**
   * Whether a stream in {@code state} has applied {@code snapshot}. Both are immutable, so the
   * answer holds while the stream keeps that state: the rollout engine asks every 200 ms per
   * running flow, the admin API on every flow or split call, and the publisher's stage waits
   * every few milliseconds, while a stream's state changes only when a push reaches it.
   */
  private record Answer(NamedVersionSnapshot snapshot, State state, boolean applied) {}

  /** One stream, from its events. */
  private static final class Proxy {
    final ProxyEvent.Connected connected;
    volatile State state = State.NONE;
    volatile Answer applied;
    volatile Answer routesApplied;

    Proxy(ProxyEvent.Connected connected) {
      this.connected = connected;
    }

    /** Sends and ACKs of one stream come on two threads. */
    synchronized void update(UnaryOperator<State> change) {
      state = change.apply(state);
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

  /** The newest stream of each node id as of {@code membership} connects and disconnects. */
  private record Newest(long membership, List<Proxy> proxies) {}

  private final Map<Long, Proxy> streams = new ConcurrentHashMap<>();
  /**
   * The streams of each node id: one, unless a reconnecting proxy's old stream lingers. Kept
   * with the streams rather than grouped on every read: the rollout engine and the publisher's
   * stage waits ask for the lagging proxies many times a second while a push goes out.
   */
  private final Map<String, List<Proxy>> byNode = new ConcurrentHashMap<>();
  /** Counts connects and disconnects, each after {@link #byNode} took it. */
  private final AtomicLong membership = new AtomicLong();
  private volatile Newest newest = new Newest(0, List.of());

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
      membership.incrementAndGet();
      return;
    }
    if (event instanceof ProxyEvent.Disconnected) {
      Proxy gone = streams.remove(event.streamId());
      if (gone != null) {
        byNode.computeIfPresent(gone.nodeId(), (id, list) -> {
          List<Proxy> left = list.stream().filter(proxy -> proxy != gone).toList();
          return left.isEmpty() ? null : left;
        });
        membership.incrementAndGet();
      }
      return;
    }
    Proxy proxy = streams.get(event.streamId());
    if (proxy == null) {
      return;
    }
    if (event instanceof ProxyEvent.Sent sent) {
      proxy.update(state -> state.withSent(sent.type(), sent.version()));
    } else if (event instanceof ProxyEvent.Acked acked) {
      proxy.update(state -> state.withAcked(acked.type(), acked.version(), acked.names()));
    } else if (event instanceof ProxyEvent.Nacked nacked) {
      proxy.update(state -> state.withNack(nacked.nack()));
    }
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
      State state = proxy.state;
      Map<XdsType, String> acked = new EnumMap<>(XdsType.class);
      Map<XdsType, List<String>> names = new EnumMap<>(XdsType.class);
      for (XdsType type : XdsType.values()) {
        if (state.acked[type.ordinal()] != null) {
          acked.put(type, state.acked[type.ordinal()]);
        }
        if (state.ackedNames[type.ordinal()] != null) {
          names.put(type, state.ackedNames[type.ordinal()].names());
        }
      }
      proxies.add(new ProxyStatus(proxy.id(), node.getId(), node.getCluster(), proxy.group(),
          app == null ? "" : app.getStringValue(), node.getUserAgentName(),
          Map.copyOf(acked), Map.copyOf(names), Optional.ofNullable(state.lastNack),
          proxy.connected.at(), proxy.connected.peer(),
          Math.max(1, byNode.getOrDefault(node.getId(), List.of()).size())));
    }
    proxies.sort(Comparator.comparing(ProxyStatus::nodeId));
    return proxies;
  }

  /** The newest stream of each node id, gathered again only after a connect or disconnect. */
  private List<Proxy> newestPerNode() {
    long now = membership.get();
    Newest known = newest;
    if (known.membership() == now) {
      return known.proxies();
    }
    // byNode holds at least the changes counted up to now; one made meanwhile counts past it.
    List<Proxy> list = new ArrayList<>(byNode.size());
    for (List<Proxy> sharing : byNode.values()) {
      Proxy last = sharing.get(0);
      for (Proxy proxy : sharing) {
        last = proxy.id() > last.id() ? proxy : last;
      }
      list.add(last);
    }
    List<Proxy> proxies = List.copyOf(list);
    newest = new Newest(now, proxies);
    return proxies;
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
    Answer answer = answer(proxy.applied, proxy.state, snapshot,
        state -> applied(state, snapshot));
    proxy.applied = answer;
    return answer.applied();
  }

  private static boolean routesApplied(Proxy proxy, NamedVersionSnapshot snapshot) {
    Answer answer = answer(proxy.routesApplied, proxy.state, snapshot,
        state -> ProxyStatus.applied(snapshot, XdsType.ROUTES,
            state.acked[XdsType.ROUTES.ordinal()], state.names(XdsType.ROUTES)));
    proxy.routesApplied = answer;
    return answer.applied();
  }

  /** {@code known} if it was given for this state and snapshot, else the question asked anew. */
  private static Answer answer(Answer known, State state, NamedVersionSnapshot snapshot,
      Predicate<State> question) {
    if (known != null && known.snapshot() == snapshot && known.state() == state) {
      return known;
    }
    return new Answer(snapshot, state, question.test(state));
  }

  private static boolean applied(State state, NamedVersionSnapshot snapshot) {
    Nack nack = state.lastNack;
    if (nack != null && nack.rejectedVersion().equals(state.sent[nack.type().ordinal()])) {
      // It rejected what it was sent last and keeps its previous config: waiting for it
      // would only cost every change the stage timeout.
      return true;
    }
    for (XdsType type : XdsType.values()) {
      if (state.sent[type.ordinal()] != null && !ProxyStatus.applied(snapshot, type,
          state.acked[type.ordinal()], state.names(type))) {
        return false;
      }
    }
    RequestedNames clusters = state.ackedNames[XdsType.CLUSTERS.ordinal()];
    return clusters == null || !clusters.names().isEmpty()
        || snapshot.namesEveryCluster(state.names(XdsType.ENDPOINTS));
  }
}
