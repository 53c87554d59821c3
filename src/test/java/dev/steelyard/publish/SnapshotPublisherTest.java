package dev.steelyard.publish;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.source.StaticAppCatalog;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.FileSplitStore;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotPublisherTest {

  private static final AppKey APP = new AppKey("default", "hello-app");

  @Test
  void aBurstOfChangesIsCoalescedAndEveryCallerSeesItsChangePublished(@TempDir Path dir)
      throws Exception {
    StaticAppCatalog catalog = new StaticAppCatalog(List.of(new AppSpec(APP, 80,
        AppProtocol.HTTP, List.of(), Map.of(SubsetRole.MAIN, List.of(new Endpoint("10.0.0.1", 80)),
        SubsetRole.CANARY, List.of(new Endpoint("10.0.0.2", 80))))), "test");
    FileSplitStore store = FileSplitStore.open(dir);
    SimpleCache<ProxyKind> cache = new SimpleCache<>(ProxyKind::of);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    SnapshotPublisher publisher = new SnapshotPublisher(catalog, store, cache,
        TranslatorSettings.DEFAULTS, Duration.ofMillis(50), Duration.ofMillis(500), meters);
    store.onChange(publisher::requestPublish);
    publisher.start();
    try {
      assertThat(cache.getSnapshot(ProxyKind.GRPC)).as("first snapshot before start returns")
          .isNotNull();
      long builds = meters.timer("steelyard_snapshot_build").count();

      long lastTicket = 0;
      for (int weight = 1; weight <= 50; weight++) {
        store.set(APP, new AppSplits(SplitPolicy.of("test", weight), Optional.empty()));
        lastTicket = publisher.requestPublish();
      }
      PublishedState state = publisher.whenPublished(lastTicket).get(5, TimeUnit.SECONDS);

      assertThat(state.view().app(APP).orElseThrow().mesh().effective().canary())
          .isEqualTo(5000);
      assertThat(cache.getSnapshot(ProxyKind.SIDECAR).routes().version())
          .isEqualTo(state.versions().get(ProxyKind.SIDECAR).routes());
      assertThat(meters.timer("steelyard_snapshot_build").count() - builds)
          .as("100 requests within the holdoff coalesce into a few builds")
          .isBetween(1L, 5L);
      assertThat(publisher.whenPublished(lastTicket)).isCompleted();
    } finally {
      publisher.close();
    }
  }
}
