package dev.steelyard.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.publish.PublishedState;
import dev.steelyard.publish.SnapshotPublisher;
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
import dev.steelyard.xds.HeldVersions;
import dev.steelyard.xds.IndexedCache;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RoutesVersionsTest {

  private static final AppKey A = new AppKey("default", "app-a");
  private static final AppKey B = new AppKey("default", "app-b");

  private static AppSpec app(AppKey key, String ip) {
    return new AppSpec(key, 80, AppProtocol.GRPC, List.of(),
        Map.of(SubsetRole.MAIN, List.of(new Endpoint(ip + "1", 80)),
            SubsetRole.CANARY, List.of(new Endpoint(ip + "2", 80))));
  }

  @Test
  void grpcClientsAreShownTheVersionOfTheirAppsRoutesAndEnvoysTheWholeType(@TempDir Path dir)
      throws Exception {
    FileSplitStore store = FileSplitStore.open(dir);
    SnapshotPublisher publisher = new SnapshotPublisher(
        new StaticAppCatalog(List.of(app(A, "10.0.1."), app(B, "10.0.2.")), "test"), store,
        new IndexedCache(new HeldVersions()), TranslatorSettings.DEFAULTS, 
        Duration.ofMillis(1), Duration.ofMillis(50), new SimpleMeterRegistry());
    publisher.start();
    try {
      PublishedState before = publisher.current();
      store.set(B, new AppSplits(SplitPolicy.of("test", 20), Optional.empty()));
      PublishedState after = publisher.whenPublished(publisher.requestPublish())
          .get(5, TimeUnit.SECONDS);

      Map<ProxyKind, String> aBefore = RoutesVersions.of(A, before);
      Map<ProxyKind, String> aAfter = RoutesVersions.of(A, after);
      assertThat(aAfter).containsOnlyKeys(ProxyKind.values());
      assertThat(aAfter.get(ProxyKind.GRPC)).as("app-a's routes did not change")
          .isEqualTo(aBefore.get(ProxyKind.GRPC))
          .isNotEqualTo(after.versions().get(ProxyKind.GRPC).routes());
      assertThat(RoutesVersions.of(B, after).get(ProxyKind.GRPC))
          .isNotEqualTo(RoutesVersions.of(B, before).get(ProxyKind.GRPC));
      assertThat(aAfter.get(ProxyKind.SIDECAR)).as("an Envoy holds every app's routes")
          .isEqualTo(after.versions().get(ProxyKind.SIDECAR).routes())
          .isNotEqualTo(aBefore.get(ProxyKind.SIDECAR));
    } finally {
      publisher.close();
    }
  }
}
