package dev.steelyard.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.demo.RoleBackend;
import dev.steelyard.demo.RoleServiceDescriptor;
import dev.steelyard.demo.v1.WhoAreYouRequest;
import dev.steelyard.feedback.ProxyStatus;
import dev.steelyard.publish.PublishedState;
import dev.steelyard.source.kubernetes.KubeObjects;
import dev.steelyard.source.kubernetes.KubernetesSourceSettings;
import dev.steelyard.source.kubernetes.MockCluster;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.kubernetes.TrafficSplits;
import dev.steelyard.status.RoutesVersions;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetWeights;
import dev.steelyard.xds.XdsType;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.NameResolverProvider;
import io.grpc.NameResolverRegistry;
import io.grpc.stub.ClientCalls;
import io.grpc.xds.XdsNameResolverProvider;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19: a TrafficSplit status read at any moment is one picture. While a real grpc-java xDS
 * client is connected and the spec changes many times, a thread reads the status every few
 * milliseconds; every status read must pair its {@code applied} split with the routes versions
 * and effective weights that split was published with, its {@code observedGeneration} with the
 * split written at that generation, and "all proxies ACKed" with a proxy that really holds
 * those routes.
 */
class TrafficSplitStatusConsistencyTest {

  private static final String SCHEME = "xds-status";
  private static final AppKey HELLO = new AppKey("default", "hello-app");
  private static final int CHANGES = 30;
  /** The mock logs every request; at this rate of reads that is only noise. Held: JUL is weak. */
  private static final java.util.logging.Logger MOCK_LOG =
      java.util.logging.Logger.getLogger("io.fabric8.mockwebserver.MockWebServer");

  /** What the publisher produced for one split: its state, routes per kind, effective weights. */
  private record Produced(PublishedState state, Map<String, String> routes, SubsetWeights mesh,
      SubsetWeights gateway) {}

  /**
   * One status read, with the spec generation newest at the time and the proxy as it was right
   * after; {@code steady} when no spec was written meanwhile, so no newer split existed yet.
   */
  private record Observation(long newestGeneration, boolean steady,
      GenericKubernetesResource resource, Optional<ProxyStatus> proxy) {}

  @TempDir Path dataDir;
  private MockCluster cluster;
  private KubernetesClient kubectl;
  private KubernetesClient poller;
  private KubernetesControlPlane plane;
  private final List<RoleBackend> backends = new ArrayList<>();
  private NameResolverProvider resolver;
  private ManagedChannel channel;

  /** Keyed by the set weights (mesh, gateway) the split produced. */
  private final Map<List<SubsetWeights>, Produced> produced = new ConcurrentHashMap<>();
  private final Map<Long, AppSplits> written = new ConcurrentHashMap<>();
  /** Odd while a spec write is in flight; observations that straddle a write are not judged. */
  private final AtomicLong writes = new AtomicLong();
  private volatile long newestGeneration;
  private final AtomicLong reached = new AtomicLong();
  private final List<Observation> observations = new CopyOnWriteArrayList<>();
  private volatile boolean polling = true;

  @BeforeEach
  void start() throws Exception {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
    RoleBackend main = RoleBackend.start("hello-app", dev.steelyard.view.SubsetRole.MAIN,
        "127.0.0.1", 0);
    backends.add(main);
    int port = main.port();
    backends.add(RoleBackend.start("hello-app", dev.steelyard.view.SubsetRole.BASELINE,
        "127.0.0.2", port));
    backends.add(RoleBackend.start("hello-app", dev.steelyard.view.SubsetRole.CANARY,
        "127.0.0.3", port));

    cluster = new MockCluster();
    kubectl = cluster.newClient();
    poller = cluster.newClient();
    kubectl.services().resource(KubeObjects.service("default", "hello-app", "app", 80,
        new IntOrString(port), "grpc")).create();
    int ip = 1;
    for (String role : List.of("main", "baseline", "canary")) {
      kubectl.pods().resource(KubeObjects.pod("default", role + "-1",
          Map.of("app", "hello-app", "app-role", role), "127.0.0." + ip++, true, Map.of()))
          .create();
    }
    plane = KubernetesControlPlane.start(cluster.client(),
        ServerConfig.defaults(dataDir).withPorts(0, 0).withBindHost("127.0.0.1"),
        KubernetesSourceSettings.DEFAULTS, "replica-a");
    plane.server().publisher().onPublished(this::record);
    record(plane.server().publisher().current());

    resolver = XdsNameResolverProvider.createForTest(SCHEME, Map.of(
        "xds_servers", List.of(Map.of(
            "server_uri", "127.0.0.1:" + plane.server().xdsPort(),
            "channel_creds", List.of(Map.of("type", "insecure")),
            "server_features", List.of("xds_v3"))),
        "node", Map.of("id", "status-test-client", "cluster", "test",
            "locality", Map.of("zone", "a"),
            "metadata", Map.of("steelyard.kind", "grpc"))));
    NameResolverRegistry.getDefaultRegistry().register(resolver);
    channel = ManagedChannelBuilder.forTarget(SCHEME + ":///hello-app").usePlaintext().build();
    ClientCalls.blockingUnaryCall(channel, RoleServiceDescriptor.WHO_ARE_YOU,
        CallOptions.DEFAULT.withWaitForReady().withDeadlineAfter(20, TimeUnit.SECONDS),
        WhoAreYouRequest.getDefaultInstance());
  }

  @AfterEach
  void stop() {
    polling = false;
    channel.shutdownNow();
    NameResolverRegistry.getDefaultRegistry().deregister(resolver);
    plane.close();
    poller.close();
    kubectl.close();
    cluster.close();
    backends.forEach(RoleBackend::close);
  }

  private void record(PublishedState state) {
    state.view().app(HELLO).ifPresent(app -> {
      Map<String, String> routes = new TreeMap<>();
      RoutesVersions.of(HELLO, state)
          .forEach((kind, version) -> routes.put(kind.label(), version));
      produced.putIfAbsent(List.of(app.mesh().set(), app.gateway().set()),
          new Produced(state, routes, app.mesh().effective(), app.gateway().effective()));
    });
  }

  private static Map<String, Object> spec(int change) {
    Map<String, Object> spec = new LinkedHashMap<>();
    // Alternating modes: each spec differs from the one before.
    spec.put("mesh", change % 2 == 0
        ? Map.of("mode", "test", "canaryWeight", 1 + change)
        : Map.of("mode", "deploy", "canaryWeight", 1 + change % 49));
    if (change % 3 == 0) {
      spec.put("gateway", Map.of("mode", "deploy", "canaryWeight", 2 + change % 40));
    }
    return spec;
  }

  /** A {@code kubectl apply}; returns the generation the API server gave the spec. */
  private long applySpec(Map<String, Object> spec) {
    var resources = kubectl.genericKubernetesResources(TrafficSplits.CONTEXT)
        .inNamespace("default");
    writes.incrementAndGet();
    try {
      for (int attempt = 1; ; attempt++) {
        try {
          GenericKubernetesResource existing = resources.withName("hello-app").get();
          GenericKubernetesResource result;
          if (existing == null) {
            GenericKubernetesResource created = new GenericKubernetesResource();
            created.setApiVersion("steelyard.dev/v1alpha1");
            created.setKind("TrafficSplit");
            created.setMetadata(new ObjectMetaBuilder()
                .withNamespace("default").withName("hello-app").build());
            created.setAdditionalProperty("spec", spec);
            result = resources.resource(created).create();
          } else {
            existing.setAdditionalProperty("spec", spec);
            result = resources.resource(existing).update();
          }
          long generation = result.getMetadata().getGeneration();
          written.put(generation, TrafficSplits.parse(result));
          newestGeneration = generation;
          return generation;
        } catch (KubernetesClientException e) {
          if (e.getCode() != 409 || attempt == 20) {
            throw e;
          }
        }
      }
    } catch (dev.steelyard.split.InvalidSplitException e) {
      throw new AssertionError(e);
    } finally {
      writes.incrementAndGet();
    }
  }

  private void poll() {
    while (polling) {
      long before = writes.get();
      long generation = newestGeneration;
      GenericKubernetesResource resource;
      try {
        resource = poller.genericKubernetesResources(TrafficSplits.CONTEXT)
            .inNamespace("default").withName("hello-app").get();
      } catch (KubernetesClientException e) {
        continue;
      }
      Optional<ProxyStatus> proxy = plane.server().proxies().proxies().stream()
          .filter(p -> p.kind() == ProxyKind.GRPC).findFirst();
      boolean steady = before == writes.get() && before % 2 == 0;
      if (resource != null) {
        observations.add(new Observation(generation, steady, resource, proxy));
        Map<?, ?> status = status(resource);
        if (steady && number(status.get("observedGeneration")) == generation
            && number(status.get("proxiesConnected")) >= 1
            && number(status.get("proxiesAcked")) == number(status.get("proxiesConnected"))) {
          reached.accumulateAndGet(generation, Math::max);
        }
      }
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  @Test
  void everyStatusReadIsOnePublishedPicture() throws Exception {
    await().atMost(Duration.ofSeconds(10))
        .until(() -> plane.server().proxies().proxies().size() == 1);
    Thread thread = new Thread(this::poll, "status-poller");
    thread.setDaemon(true);
    thread.start();
    try {
      for (int change = 0; change < CHANGES; change++) {
        long generation = applySpec(spec(change));
        if (change % 4 == 3) {
          // A burst: the next change follows at once, before this one is published.
          generation = applySpec(spec(++change));
        }
        long target = generation;
        // ACKs alone do not trigger a status write; ask for rounds instead of waiting 5 s.
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10)).until(() -> {
          plane.refreshStatus();
          return reached.get() >= target;
        });
      }
    } finally {
      polling = false;
      thread.join(5000);
    }

    List<String> violations = new ArrayList<>();
    int judgedAcked = 0;
    for (Observation observation : observations) {
      Map<?, ?> status = status(observation.resource());
      Optional<AppSplits> applied = TrafficSplits.lastApplied(observation.resource());
      if (applied.isEmpty()) {
        continue;
      }
      List<SubsetWeights> key = List.of(applied.get().mesh().weights(),
          applied.get().gateway().weights());
      Produced expected = produced.get(key);
      String where = "status " + status + ": ";
      if (expected == null) {
        violations.add(where + "applied split " + applied.get() + " was never published");
        continue;
      }
      if (!expected.routes().equals(status.get("routesVersions"))) {
        violations.add(where + "routesVersions are not those of the applied split "
            + expected.routes());
      }
      Map<?, ?> effective = (Map<?, ?>) status.get("effectiveWeights");
      if (effective == null || !expected.mesh().equals(weights(effective.get("mesh")))
          || !expected.gateway().equals(weights(effective.get("gateway")))) {
        violations.add(where + "effectiveWeights are not those of the applied split: mesh "
            + expected.mesh() + ", gateway " + expected.gateway());
      }
      long observed = number(status.get("observedGeneration"));
      if (observed > 0 && !applied.get().equals(written.get(observed))) {
        violations.add(where + "observedGeneration " + observed + " was written as "
            + written.get(observed) + ", not the applied " + applied.get());
      }
      if (observation.steady() && observed == observation.newestGeneration()
          && number(status.get("proxiesConnected")) >= 1
          && number(status.get("proxiesAcked")) == number(status.get("proxiesConnected"))) {
        judgedAcked++;
        Produced newest = produced.get(List.of(written.get(observed).mesh().weights(),
            written.get(observed).gateway().weights()));
        boolean holds = observation.proxy().isPresent() && newest != null
            && observation.proxy().get().hasApplied(
                newest.state().snapshots().get(observation.proxy().get().group()), XdsType.ROUTES);
        if (!holds) {
          violations.add(where + "all proxies ACKed generation " + observed
              + ", but the proxy held " + observation.proxy().map(ProxyStatus::ackedVersions));
        }
      }
    }
    assertThat(observations).hasSizeGreaterThan(CHANGES);
    assertThat(judgedAcked).isGreaterThan(0);
    assertThat(violations).as("%d violations in %d status reads", violations.size(),
        observations.size()).isEmpty();
  }

  private static Map<?, ?> status(GenericKubernetesResource resource) {
    Object status = resource.getAdditionalProperties().get("status");
    return status instanceof Map<?, ?> map ? map : Map.of();
  }

  private static long number(Object value) {
    return value instanceof Number n ? n.longValue() : -1;
  }

  /** Status weights are percentages; the view's are basis points. */
  private static SubsetWeights weights(Object value) {
    if (!(value instanceof Map<?, ?> map)) {
      return null;
    }
    return new SubsetWeights(basisPoints(map.get("main")), basisPoints(map.get("baseline")),
        basisPoints(map.get("canary")));
  }

  private static int basisPoints(Object percent) {
    return percent instanceof Number n ? (int) Math.round(n.doubleValue() * 100) : -1;
  }
}
