package dev.steelyard.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.steelyard.publish.SnapshotPublisher;
import dev.steelyard.source.StaticAppCatalog;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.FileSplitStore;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.ResourceNames;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.Resources.ResourceType;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.XdsRequest;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache's answers to watches, driven by a real publisher. */
class IndexedCacheTest {

  private static final AppKey A = new AppKey("default", "app-a");
  private static final AppKey B = new AppKey("default", "app-b");
  private static final String ROUTES_A = ResourceNames.grpcRoutes(A);
  private static final String ROUTES_B = ResourceNames.grpcRoutes(B);
  private static final Node GRPC = Node.newBuilder().setId("client")
      .setMetadata(Struct.newBuilder().putFields(ProxyKind.METADATA_KEY,
          Value.newBuilder().setStringValue("grpc").build()))
      .build();

  @TempDir Path dir;
  private final IndexedCache cache = new IndexedCache(new HeldVersions());
  private FileSplitStore store;
  private SnapshotPublisher publisher;

  private static AppSpec app(AppKey key, String ip) {
    return new AppSpec(key, 80, AppProtocol.GRPC, List.of(),
        Map.of(SubsetRole.MAIN, List.of(new Endpoint(ip + "1", 80)),
            SubsetRole.CANARY, List.of(new Endpoint(ip + "2", 80))));
  }

  @BeforeEach
  void start() throws Exception {
    store = FileSplitStore.open(dir);
    publisher = new SnapshotPublisher(
        new StaticAppCatalog(List.of(app(A, "10.0.1."), app(B, "10.0.2.")), "test"), store,
        cache, TranslatorSettings.DEFAULTS, Duration.ofMillis(1),
        Duration.ofMillis(50), new SimpleMeterRegistry());
    publisher.start();
  }

  @AfterEach
  void stop() {
    publisher.close();
  }

  private void split(AppKey app, int canaryPercent) throws Exception {
    store.set(app, new AppSplits(SplitPolicy.of("test", canaryPercent), Optional.empty()));
    publisher.whenPublished(publisher.requestPublish()).get(5, TimeUnit.SECONDS);
  }

  private static XdsRequest routes(String version, String... names) {
    return XdsRequest.create(DiscoveryRequest.newBuilder().setNode(GRPC)
        .setTypeUrl(Resources.V3.ROUTE_TYPE_URL).setVersionInfo(version)
        .addAllResourceNames(List.of(names)).build());
  }

  private String version(String... names) {
    return cache.getSnapshot(ProxyGroup.all(ProxyKind.GRPC)).version(ResourceType.ROUTE, List.of(names));
  }

  private Watch watch(XdsRequest request, Set<String> known, List<Response> answers) {
    return watch(request, known, answers::add);
  }

  private Watch watch(XdsRequest request, Set<String> known,
      java.util.function.Consumer<Response> answers) {
    return cache.createWatch(ProxyGroup.all(ProxyKind.GRPC), true, request,
        RequestedNames.of(request.getResourceNamesList()), known, false, answers, false, false);
  }

  private static List<String> names(Response response) {
    return response.resources().stream().map(r -> ((RouteConfiguration) r).getName()).toList();
  }

  @Test
  void aPushAnswersOnlyTheWatchesWhoseNamedResourcesChanged() throws Exception {
    List<Response> toA = new ArrayList<>();
    List<Response> toB1 = new ArrayList<>();
    List<Response> toB2 = new ArrayList<>();
    watch(routes(version(ROUTES_A), ROUTES_A), Set.of(ROUTES_A), toA);
    watch(routes(version(ROUTES_B), ROUTES_B), Set.of(ROUTES_B), toB1);
    watch(routes(version(ROUTES_B), ROUTES_B), Set.of(ROUTES_B), toB2);
    assertThat(toA).as("up to date: the watches stay open").isEmpty();
    assertThat(toB1).isEmpty();

    split(B, 20);

    assertThat(toA).as("app-a did not change").isEmpty();
    assertThat(toB1).singleElement().satisfies(response -> {
      assertThat(names(response)).containsExactly(ROUTES_B);
      assertThat(response.version()).isEqualTo(version(ROUTES_B));
    });
    assertThat(toB2.get(0).resources()).as("one response built per list of names")
        .isSameAs(toB1.get(0).resources());
    split(B, 25);
    assertThat(toB1).as("an answered watch is closed").hasSize(1);
  }

  @Test
  void aCancelledWatchIsNeitherAnsweredNorKept() throws Exception {
    List<Response> answers = new ArrayList<>();
    Watch watch = watch(routes(version(ROUTES_A), ROUTES_A), Set.of(ROUTES_A), answers);

    watch.cancel();
    split(A, 30);

    assertThat(answers).isEmpty();
  }

  @Test
  void aNameTheSnapshotLacksDoesNotHoldBackTheOthers() throws Exception {
    List<Response> answers = new ArrayList<>();
    watch(routes("", ROUTES_A, "grpc/default/no-such-app"), Set.of(), answers);
    assertThat(answers).singleElement()
        .satisfies(response -> assertThat(names(response)).containsExactly(ROUTES_A));

    // At that version the watch waits, and a change of the name that exists still arrives.
    List<Response> next = new ArrayList<>();
    watch(routes(answers.get(0).version(), ROUTES_A, "grpc/default/no-such-app"),
        Set.of(ROUTES_A), next);
    assertThat(next).isEmpty();
    split(A, 40);
    assertThat(next).singleElement()
        .satisfies(response -> assertThat(names(response)).containsExactly(ROUTES_A));
  }

  @Test
  void aNewlyNamedResourceIsSentAtOnceEvenAtTheCurrentVersion() {
    String current = version(ROUTES_A, ROUTES_B);
    List<Response> knownBoth = new ArrayList<>();
    watch(routes(current, ROUTES_A, ROUTES_B), Set.of(ROUTES_A, ROUTES_B), knownBoth);
    assertThat(knownBoth).isEmpty();

    List<Response> sentOnlyA = new ArrayList<>();
    watch(routes(current, ROUTES_A, ROUTES_B), Set.of(ROUTES_A), sentOnlyA);
    assertThat(sentOnlyA).singleElement()
        .satisfies(response -> assertThat(names(response)).containsExactly(ROUTES_A, ROUTES_B));
  }

  @Test
  void aStreamThatFailsToSendDoesNotCostTheOthersTheirPush() throws Exception {
    List<Response> before = new ArrayList<>();
    List<Response> after = new ArrayList<>();
    watch(routes(version(ROUTES_A), ROUTES_A), Set.of(ROUTES_A), before);
    watch(routes(version(ROUTES_A), ROUTES_A), Set.of(ROUTES_A), response -> {
      throw new IllegalStateException("call is closed");
    });
    watch(routes(version(ROUTES_A), ROUTES_A), Set.of(ROUTES_A), after);

    split(A, 15);

    assertThat(before).hasSize(1);
    assertThat(after).as("answered although the watch before it failed").hasSize(1);
  }

  @Test
  void aTypeThisServerDoesNotServeIsParkedWithoutFailingTheStream() throws Exception {
    List<Response> answers = new ArrayList<>();
    Watch watch = watch(XdsRequest.create(DiscoveryRequest.newBuilder()
        .setNode(GRPC).setTypeUrl("type.googleapis.com/envoy.service.runtime.v3.Runtime")
        .addResourceNames("cert")
        .build()), Set.of(), answers);
    assertThat(watch).isNotNull();
    split(A, 35);
    assertThat(answers).isEmpty();
  }

  /** A gRPC client of one route configuration that ACKs every response on another thread. */
  private final class AckingProxy {
    final String name;
    final java.util.concurrent.Executor acks;
    volatile String lastSeen = "";

    AckingProxy(String name, java.util.concurrent.Executor acks) {
      this.name = name;
      this.acks = acks;
    }

    void request(String version) {
      watch(routes(version, name), Set.of(name), response -> {
        lastSeen = response.version();
        acks.execute(() -> request(response.version()));
      });
    }
  }

  /**
   * Proxies ACK on their own threads while splits change as fast as the publisher goes: every
   * one must end on the last published version, none left waiting on an old one.
   */
  @Test
  void proxiesAckingConcurrentlyWithPushesAllEndOnTheLastVersion() throws Exception {
    var acks = java.util.concurrent.Executors.newFixedThreadPool(4);
    List<AckingProxy> proxies = new ArrayList<>();
    try {
      for (int p = 0; p < 40; p++) {
        AckingProxy proxy = new AckingProxy(p % 2 == 0 ? ROUTES_A : ROUTES_B, acks);
        proxies.add(proxy);
        proxy.request("");
      }
      for (int step = 1; step <= 30; step++) {
        store.set(step % 2 == 0 ? A : B,
            new AppSplits(SplitPolicy.of("test", step), Optional.empty()));
        publisher.requestPublish();
      }
      split(A, 45);
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        for (AckingProxy proxy : proxies) {
          assertThat(proxy.lastSeen).as(proxy.name).isEqualTo(version(proxy.name));
        }
      });
    } finally {
      acks.shutdownNow();
    }
  }
}
