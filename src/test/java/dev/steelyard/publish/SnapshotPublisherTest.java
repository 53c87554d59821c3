package dev.steelyard.publish;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.source.AppCatalog;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.split.SplitStore;
import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import dev.steelyard.xds.ContentVersion;
import dev.steelyard.xds.HeldVersions;
import dev.steelyard.xds.IndexedCache;
import dev.steelyard.xds.NamedVersionSnapshot;
import io.envoyproxy.controlplane.cache.Resources.ResourceType;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

public class SnapshotPublisherTest {

  private static final AppKey APP = new AppKey("default", "hello-app");

  /** Apps that a test can swap, as a source would on a change. */
  public static final class MutableCatalog implements AppCatalog {
    volatile List<AppSpec> apps;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    public MutableCatalog(List<AppSpec> apps) {
      this.apps = apps;
    }

    public void set(List<AppSpec> next) {
      apps = next;
      listeners.forEach(Runnable::run);
    }

    @Override public List<AppSpec> apps() {
      return apps;
    }

    @Override public String describe() {
      return "test";
    }

    @Override public Optional<String> lastError() {
      return Optional.empty();
    }

    @Override public void onChange(Runnable listener) {
      listeners.add(listener);
    }

    @Override public void close() {}
  }

  static final class MemorySplitStore implements SplitStore {
    private final Map<AppKey, AppSplits> splits = new ConcurrentHashMap<>();

    @Override public Map<AppKey, AppSplits> all() {
      return Map.copyOf(splits);
    }

    @Override public void set(AppKey key, AppSplits value) {
      splits.put(key, value);
    }

    @Override public void onChange(Runnable listener) {}
  }

  public static AppSpec app(AppKey key, String gatewayHost) {
    return new AppSpec(key, 80, AppProtocol.HTTP, List.of(gatewayHost), Map.of(
        SubsetRole.MAIN, List.of(new Endpoint("10.0.0.1", 80)),
        SubsetRole.CANARY, List.of(new Endpoint("10.0.0.2", 80))));
  }

  private static SnapshotPublisher publisher(AppCatalog catalog, SplitStore store,
      IndexedCache cache, SimpleMeterRegistry meters, Duration holdoff) {
    return new SnapshotPublisher(catalog, store, cache, TranslatorSettings.DEFAULTS,
        holdoff, holdoff.multipliedBy(10), meters);
  }

  @Test
  void aBurstOfChangesIsCoalescedAndEveryCallerSeesItsChangePublished() throws Exception {
    MemorySplitStore store = new MemorySplitStore();
    IndexedCache cache = new IndexedCache(new HeldVersions());
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    // A holdoff far longer than the burst takes, so the assertion does not depend on speed.
    SnapshotPublisher publisher = publisher(new MutableCatalog(List.of(app(APP, "a.io"))), store,
        cache, meters, Duration.ofMillis(300));
    publisher.start();
    try {
      assertThat(cache.getSnapshot(ProxyGroup.all(ProxyKind.GRPC))).as("first snapshot before start returns")
          .isNotNull();
      Thread.sleep(400); // quiet for longer than the holdoff
      long builds = meters.timer("steelyard_snapshot_build").count();

      long lastTicket = 0;
      for (int weight = 1; weight <= 50; weight++) {
        store.set(APP, new AppSplits(SplitPolicy.of("test", weight), Optional.empty()));
        lastTicket = publisher.requestPublish();
      }
      PublishedState state = publisher.whenPublished(lastTicket).get(10, TimeUnit.SECONDS);

      assertThat(state.view().app(APP).orElseThrow().mesh().effective().canary())
          .isEqualTo(5000);
      assertThat(cache.getSnapshot(ProxyGroup.all(ProxyKind.SIDECAR)).routes().version())
          .isEqualTo(state.versions().get(ProxyKind.SIDECAR).routes());
      // The first request after a quiet holdoff is published at once (leading edge); the
      // other 49, arriving within a holdoff of it, are merged into one more build.
      assertThat(meters.timer("steelyard_snapshot_build").count() - builds)
          .as("50 requests within one holdoff").isBetween(1L, 2L);
    } finally {
      publisher.close();
    }
  }

  @Test
  void aTypeThatDidNotChangeKeepsItsResourcesAndEachResourceIsVersionedByItsContent()
      throws Exception {
    MemorySplitStore store = new MemorySplitStore();
    IndexedCache cache = new IndexedCache(new HeldVersions());
    SnapshotPublisher publisher = publisher(new MutableCatalog(List.of(app(APP, "a.io"))), store,
        cache, new SimpleMeterRegistry(), Duration.ofMillis(10));
    publisher.start();
    try {
      NamedVersionSnapshot before = cache.getSnapshot(ProxyGroup.all(ProxyKind.SIDECAR));
      store.set(APP, new AppSplits(SplitPolicy.of("test", 20), Optional.empty()));
      publisher.whenPublished(publisher.requestPublish()).get(5, TimeUnit.SECONDS);
      NamedVersionSnapshot after = cache.getSnapshot(ProxyGroup.all(ProxyKind.SIDECAR));

      // A weight step changes routes only: clusters, endpoints and listeners are the same
      // objects, so nothing about them is rebuilt or re-sent.
      assertThat(after.routes().version()).isNotEqualTo(before.routes().version());
      assertThat(after.clusters()).isSameAs(before.clusters());
      assertThat(after.endpoints()).isSameAs(before.endpoints());
      assertThat(after.listeners()).isSameAs(before.listeners());
      // Each resource's version is its content hash, the one named versions are made of.
      after.routes().versionedResources().forEach((name, versioned) ->
          assertThat(versioned.version())
              .isEqualTo(ContentVersion.of(versioned.resource())));
    } finally {
      publisher.close();
    }
  }

  @Test
  void aRefusedBuildKeepsThePreviousSnapshotAndSaysWhy() throws Exception {
    AppKey other = new AppKey("default", "other");
    MutableCatalog catalog = new MutableCatalog(List.of(app(APP, "a.io")));
    IndexedCache cache = new IndexedCache(new HeldVersions());
    SnapshotPublisher publisher = publisher(catalog, new MemorySplitStore(), cache,
        new SimpleMeterRegistry(), Duration.ofMillis(10));
    publisher.start();
    try {
      String gatewayRoutes = cache.getSnapshot(ProxyGroup.all(ProxyKind.GATEWAY)).routes().version();

      // A source that declares one app twice: its clusters would be defined twice.
      catalog.set(List.of(app(APP, "a.io"), app(APP, "b.io")));
      PublishedState refused = publisher.whenPublished(publisher.requestPublish())
          .get(5, TimeUnit.SECONDS);
      assertThat(refused.lastError()).hasValueSatisfying(error -> assertThat(error)
          .startsWith("refused, proxies keep the previous configuration: ")
          .contains("cluster 'default/hello-app/main' is defined twice"));
      assertThat(refused.view().apps()).hasSize(1);
      assertThat(cache.getSnapshot(ProxyGroup.all(ProxyKind.GATEWAY)).routes().version())
          .isEqualTo(gatewayRoutes);

      catalog.set(List.of(app(APP, "a.io"), app(other, "b.io")));
      PublishedState fixed = publisher.whenPublished(publisher.requestPublish())
          .get(5, TimeUnit.SECONDS);
      assertThat(fixed.lastError()).isEmpty();
      assertThat(fixed.view().apps()).hasSize(2);
    } finally {
      publisher.close();
    }
  }
}
