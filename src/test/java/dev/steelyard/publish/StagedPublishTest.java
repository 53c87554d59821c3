package dev.steelyard.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.publish.SnapshotPublisherTest.MutableCatalog;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import dev.steelyard.xds.HeldVersions;
import dev.steelyard.xds.IndexedCache;
import dev.steelyard.xds.NamedVersionSnapshot;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The publisher sends a make-before-break change stage by stage and waits for the proxies
 * between stages, with a fake {@link AppliedCheck} in place of the proxy registry.
 */
class StagedPublishTest {

  private static final AppKey APP = new AppKey("default", "hello-app");
  private static final String CANARY = "default/hello-app/canary";

  private static AppSpec app(boolean withCanary) {
    return new AppSpec(APP, 80, AppProtocol.HTTP, List.of("hello.example.com"), Map.of(
        SubsetRole.MAIN, List.of(new Endpoint("10.0.0.1", 80)),
        SubsetRole.CANARY, withCanary ? List.of(new Endpoint("10.0.0.2", 80)) : List.of()));
  }

  @Test
  void anEmptiedSubsetKeepsItsEndpointsUntilTheProxiesAppliedTheRoutesWithoutIt()
      throws Exception {
    MutableCatalog catalog = new MutableCatalog(List.of(app(true)));
    SnapshotPublisherTest.MemorySplitStore store = new SnapshotPublisherTest.MemorySplitStore();
    store.set(APP, new AppSplits(SplitPolicy.of("test", 50), Optional.empty()));
    IndexedCache cache = new IndexedCache(new HeldVersions());
    SnapshotPublisher publisher = new SnapshotPublisher(catalog, store, cache,
        TranslatorSettings.DEFAULTS, Duration.ofMillis(1),
        Duration.ofMillis(10), new SimpleMeterRegistry());
    AtomicBoolean proxyCaughtUp = new AtomicBoolean(false);
    publisher.waitForProxiesWith((group, snapshot) ->
        group.kind() == ProxyKind.GATEWAY && !proxyCaughtUp.get() ? List.of("gateway-1") : List.of());
    publisher.start();
    try {
      catalog.set(List.of(app(false)));
      long ticket = publisher.requestPublish();

      // Stage 1 is out: the routes send the canary nothing, its endpoints are still there.
      await().atMost(Duration.ofSeconds(5)).until(() ->
          weight(cache.getSnapshot(ProxyGroup.all(ProxyKind.GATEWAY)), CANARY) == 0);
      assertThat(endpoints(cache.getSnapshot(ProxyGroup.all(ProxyKind.GATEWAY)), CANARY)).isEqualTo(1);
      Thread.sleep(300);
      assertThat(publisher.whenPublished(ticket).isDone()).as("waiting for the gateway")
          .isFalse();
      assertThat(endpoints(cache.getSnapshot(ProxyGroup.all(ProxyKind.GATEWAY)), CANARY))
          .as("not emptied while the gateway has not applied the routes").isEqualTo(1);
      // The kinds move through the stages together: the sidecars wait for the gateway too.
      assertThat(weight(cache.getSnapshot(ProxyGroup.all(ProxyKind.SIDECAR)), CANARY)).isZero();
      assertThat(endpoints(cache.getSnapshot(ProxyGroup.all(ProxyKind.SIDECAR)), CANARY)).isEqualTo(1);

      proxyCaughtUp.set(true);
      publisher.whenPublished(ticket).get(5, TimeUnit.SECONDS);
      assertThat(endpoints(cache.getSnapshot(ProxyGroup.all(ProxyKind.GATEWAY)), CANARY)).isEqualTo(0);
    } finally {
      publisher.close();
    }
  }

  @Test
  void aProxyThatNeverCatchesUpHoldsAStageBackForTheStageTimeoutOnly() throws Exception {
    MutableCatalog catalog = new MutableCatalog(List.of(app(true)));
    SnapshotPublisherTest.MemorySplitStore store = new SnapshotPublisherTest.MemorySplitStore();
    store.set(APP, new AppSplits(SplitPolicy.of("test", 50), Optional.empty()));
    IndexedCache cache = new IndexedCache(new HeldVersions());
    SnapshotPublisher publisher = new SnapshotPublisher(catalog, store, cache,
        TranslatorSettings.DEFAULTS, Duration.ofMillis(1),
        Duration.ofMillis(10), new SimpleMeterRegistry());
    publisher.waitForProxiesWith((group, snapshot) -> List.of("stuck-" + group.label()));
    publisher.start();
    try {
      catalog.set(List.of(app(false)));
      long ticket = publisher.requestPublish();
      PublishedState published = publisher.whenPublished(ticket)
          .get(SnapshotPublisher.STAGE_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
      assertThat(published.view().app(APP).orElseThrow().spec().endpoints(SubsetRole.CANARY))
          .isEmpty();
      assertThat(endpoints(cache.getSnapshot(ProxyGroup.all(ProxyKind.GATEWAY)), CANARY)).isEqualTo(0);
    } finally {
      publisher.close();
    }
  }

  private static int weight(NamedVersionSnapshot snapshot, String cluster) {
    RouteConfiguration routes = snapshot.routes().resources().values().iterator().next();
    return routes.getVirtualHostsList().stream()
        .flatMap(host -> host.getRoutesList().stream())
        .flatMap(route -> route.getRoute().getWeightedClusters().getClustersList().stream())
        .filter(weight -> weight.getName().equals(cluster))
        .mapToInt(weight -> weight.getWeight().getValue()).sum();
  }

  private static int endpoints(NamedVersionSnapshot snapshot, String cluster) {
    ClusterLoadAssignment assignment = snapshot.endpoints().resources().get(cluster);
    return assignment == null ? -1 : assignment.getEndpointsList().stream()
        .mapToInt(locality -> locality.getLbEndpointsCount()).sum();
  }
}
