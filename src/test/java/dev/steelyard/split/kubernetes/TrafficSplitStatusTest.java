package dev.steelyard.split.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.publish.KindVersions;
import dev.steelyard.publish.PublishedState;
import dev.steelyard.split.SplitSnapshot;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.MeshView;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TrafficSplitStatusTest {

  private static PublishedState published(String routes) {
    return new PublishedState(1, MeshView.EMPTY, SplitSnapshot.EMPTY,
        Map.of(ProxyKind.GATEWAY, new KindVersions("c", "e", "l", routes)), Map.of(), Instant.EPOCH,
        Optional.empty());
  }

  @Test
  void anotherReplicasAcksCountOnlyWhenTheyAreForTheSameRoutes() {
    Map<String, Object> existing = Map.of("replicas", Map.of("replica-b", Map.of(
        "proxiesConnected", 5L, "proxiesAcked", 5L,
        "routesVersions", Map.of("gateway", "old-routes"))));

    Map<String, Object> lagging = TrafficSplitStatus.desired(new AppKey("default", "a"),
        Optional.empty(), SplitSnapshot.EMPTY, published("new-routes"), List.of(), "replica-a",
        existing, Instant.EPOCH);
    assertThat(lagging).containsEntry("proxiesConnected", 5L).containsEntry("proxiesAcked", 0L);

    Map<String, Object> current = TrafficSplitStatus.desired(new AppKey("default", "a"),
        Optional.empty(), SplitSnapshot.EMPTY, published("old-routes"), List.of(), "replica-a",
        existing, Instant.EPOCH);
    assertThat(current).containsEntry("proxiesAcked", 5L);
  }
}
