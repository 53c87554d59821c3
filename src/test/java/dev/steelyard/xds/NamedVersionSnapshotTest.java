package dev.steelyard.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.publish.PublishedState;
import dev.steelyard.publish.SnapshotPublisher;
import dev.steelyard.source.StaticAppCatalog;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.FileSplitStore;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.translate.MeshTranslator;
import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import io.envoyproxy.controlplane.cache.Resources.ResourceType;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamedVersionSnapshotTest {

  private static final AppKey A = new AppKey("default", "app-a");
  private static final AppKey B = new AppKey("default", "app-b");

  private static AppSpec app(AppKey key, String ip) {
    return new AppSpec(key, 80, AppProtocol.GRPC, List.of(),
        Map.of(SubsetRole.MAIN, List.of(new Endpoint(ip + "1", 80)),
            SubsetRole.CANARY, List.of(new Endpoint(ip + "2", 80))));
  }

  @Test
  void namedVersionsAreContentHashesThatAFreshPublisherReproduces(@TempDir Path dir)
      throws Exception {
    StaticAppCatalog catalog = new StaticAppCatalog(
        List.of(app(A, "10.0.1."), app(B, "10.0.2.")), "test");
    String[] versions = new String[2];
    for (int run = 0; run < 2; run++) {
      IndexedCache cache = new IndexedCache(new HeldVersions());
      FileSplitStore store = FileSplitStore.open(dir.resolve("run" + run));
      // The second publisher reaches the same content through a different history.
      if (run == 1) {
        store.set(A, new AppSplits(SplitPolicy.of("test", 30), Optional.empty()));
      }
      SnapshotPublisher publisher = new SnapshotPublisher(catalog, store, cache,
          TranslatorSettings.DEFAULTS, Duration.ofMillis(1),
          Duration.ofMillis(50), new SimpleMeterRegistry());
      publisher.start();
      try {
        if (run == 1) {
          store.set(A, AppSplits.DEFAULT);
          publisher.whenPublished(publisher.requestPublish()).get(5, TimeUnit.SECONDS);
        }
        versions[run] = cache.getSnapshot(ProxyGroup.all(ProxyKind.GRPC))
            .version(ResourceType.ROUTE, List.of("grpc/default/app-a"));
      } finally {
        publisher.close();
      }
    }
    assertThat(versions[1]).isEqualTo(versions[0]);
  }

  @Test
  void aChangeToOneAppLeavesTheNamedVersionsOfOtherAppsAlone(@TempDir Path dir)
      throws Exception {
    StaticAppCatalog catalog = new StaticAppCatalog(
        List.of(app(A, "10.0.1."), app(B, "10.0.2.")), "test");
    FileSplitStore store = FileSplitStore.open(dir);
    IndexedCache cache = new IndexedCache(new HeldVersions());
    SnapshotPublisher publisher = new SnapshotPublisher(catalog, store, cache,
        TranslatorSettings.DEFAULTS, Duration.ofMillis(1),
        Duration.ofMillis(50), new SimpleMeterRegistry());
    store.onChange(publisher::requestPublish);
    publisher.start();
    try {
      Snapshot before = cache.getSnapshot(ProxyGroup.all(ProxyKind.GRPC));
      List<String> routesA = List.of("grpc/default/app-a");
      List<String> routesB = List.of("grpc/default/app-b");
      String aBefore = before.version(ResourceType.ROUTE, routesA);
      String bBefore = before.version(ResourceType.ROUTE, routesB);
      assertThat(aBefore).isNotEqualTo(bBefore).isNotEqualTo(before.version(ResourceType.ROUTE));

      store.set(B, new AppSplits(SplitPolicy.of("test", 10), Optional.empty()));
      PublishedState state = publisher.whenPublished(publisher.requestPublish())
          .get(5, TimeUnit.SECONDS);
      NamedVersionSnapshot after = cache.getSnapshot(ProxyGroup.all(ProxyKind.GRPC));

      assertThat(after.version(ResourceType.ROUTE))
          .isNotEqualTo(before.version(ResourceType.ROUTE));
      assertThat(after.version(ResourceType.ROUTE, routesA)).as("app-a did not change")
          .isEqualTo(aBefore);
      assertThat(after.version(ResourceType.ROUTE, routesB)).as("app-b changed")
          .isNotEqualTo(bBefore);
      assertThat(after.version(ResourceType.ROUTE, List.of("grpc/default/app-b",
          "grpc/default/app-a"))).as("the order of names does not matter")
          .isEqualTo(after.version(ResourceType.ROUTE, List.of("grpc/default/app-a",
              "grpc/default/app-b")));
      assertThat(after.version(ResourceType.ROUTE, List.of("grpc/default/app-a", "no-such")))
          .as("a name the snapshot lacks counts as absent, not as the whole type")
          .isEqualTo(before.version(ResourceType.ROUTE, List.of("grpc/default/app-a", "no-such")))
          .isNotEqualTo(aBefore);
      assertThat(state.version(ProxyKind.GRPC, XdsType.ROUTES, routesA)).isEqualTo(aBefore);
      // The publisher reuses unchanged resources by equality; its versions must still be those
      // of the content computed from scratch.
      NamedVersionSnapshot fresh = NamedVersionSnapshot.next(null, MeshTranslator.translate(
          state.view(), ProxyKind.GRPC, TranslatorSettings.DEFAULTS));
      for (XdsType type : XdsType.values()) {
        assertThat(after.wholeVersion(type)).isEqualTo(fresh.wholeVersion(type));
      }
      List<String> everyRoute = List.copyOf(after.resources(ResourceType.ROUTE).keySet());
      assertThat(after.version(ResourceType.ROUTE, everyRoute))
          .as("naming every resource is versioned like the whole type")
          .isEqualTo(after.version(ResourceType.ROUTE));
      assertThat(state.version(ProxyKind.GRPC, XdsType.ROUTES, List.of()))
          .isEqualTo(state.versions().get(ProxyKind.GRPC).routes());
    } finally {
      publisher.close();
    }
  }
}
