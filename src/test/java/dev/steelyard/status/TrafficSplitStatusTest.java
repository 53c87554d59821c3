package dev.steelyard.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.publish.KindVersions;
import dev.steelyard.publish.PublishedState;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.SplitMode;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.split.SplitSnapshot;
import dev.steelyard.split.kubernetes.TrafficSplitStore.Validation;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.MeshView;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TrafficSplitStatusTest {

  private static final AppKey KEY = new AppKey("default", "a");
  private static final AppSplits TEST_10 =
      new AppSplits(new SplitPolicy(SplitMode.TEST, 1000), Optional.empty());
  private static final AppSplits DEPLOY_25 =
      new AppSplits(new SplitPolicy(SplitMode.DEPLOY, 2500), Optional.empty());

  private static PublishedState published(String routes) {
    return published(routes, SplitSnapshot.EMPTY, Optional.empty());
  }

  private static PublishedState published(String routes, SplitSnapshot splits,
      Optional<String> error) {
    return new PublishedState(1, MeshView.EMPTY, splits,
        Map.of(ProxyKind.GATEWAY, new KindVersions("c", "e", "l", "s", routes)), Map.of(), Instant.EPOCH,
        error);
  }

  private static SplitSnapshot splits(AppSplits splits, long generation) {
    return new SplitSnapshot(Map.of(KEY, splits), Map.of(KEY, generation));
  }

  private static Map<String, Object> desired(Validation validation, SplitSnapshot accepted,
      PublishedState published) {
    return TrafficSplitStatus.desired(KEY, Optional.of(validation), accepted, published,
        List.of(), "replica-a", Map.of(), Instant.EPOCH);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> condition(Map<String, Object> status, String type) {
    return ((List<Map<String, Object>>) status.get("conditions")).stream()
        .filter(condition -> type.equals(condition.get("type"))).findFirst().orElseThrow();
  }

  @Test
  void anotherReplicasAcksCountOnlyWhenTheyAreForTheSameRoutes() {
    Map<String, Object> existing = Map.of("replicas", Map.of("replica-b", Map.of(
        "proxiesConnected", 5L, "proxiesAcked", 5L,
        "routesVersions", Map.of("gateway", "old-routes"))));

    Map<String, Object> lagging = TrafficSplitStatus.desired(KEY,
        Optional.empty(), SplitSnapshot.EMPTY, published("new-routes"), List.of(), "replica-a",
        existing, Instant.EPOCH);
    assertThat(lagging).containsEntry("proxiesConnected", 5L).containsEntry("proxiesAcked", 0L);

    Map<String, Object> current = TrafficSplitStatus.desired(KEY,
        Optional.empty(), SplitSnapshot.EMPTY, published("old-routes"), List.of(), "replica-a",
        existing, Instant.EPOCH);
    assertThat(current).containsEntry("proxiesAcked", 5L);
  }

  @Test
  void aValidSpecNotYetPublishedIsProgressingWhileTheStatusDescribesThePublishedOne() {
    Map<String, Object> status = desired(new Validation(4L, "r4", Optional.empty()),
        splits(DEPLOY_25, 4), published("routes-of-test-10", splits(TEST_10, 3),
            Optional.empty()));

    assertThat(status).containsEntry("observedGeneration", 3L)
        .containsEntry("applied", Map.of("mesh", Map.of("mode", "test", "canaryWeight", 10),
            "gatewayFollowsMesh", true))
        .containsEntry("routesVersions", Map.of("gateway", "routes-of-test-10"));
    assertThat(condition(status, "Valid")).containsEntry("status", "True")
        .containsEntry("observedGeneration", 4L);
    assertThat(condition(status, "Progressing")).containsEntry("status", "True")
        .containsEntry("reason", "Publishing")
        .containsEntry("observedGeneration", 3L);
    assertThat((String) condition(status, "Progressing").get("message"))
        .contains("generation 4 is valid and being published")
        .contains("still describes generation 3");
  }

  @Test
  void oncePublishedTheGenerationIsObservedAndNoLongerProgressing() {
    Map<String, Object> status = desired(new Validation(4L, "r4", Optional.empty()),
        splits(DEPLOY_25, 4), published("routes-of-deploy-25", splits(DEPLOY_25, 4),
            Optional.empty()));

    assertThat(status).containsEntry("observedGeneration", 4L);
    assertThat(condition(status, "Progressing")).containsEntry("status", "False")
        .containsEntry("reason", "Published");
  }

  @Test
  void anInvalidSpecIsReportedAtOnceButMovesNeitherAppliedNorObservedGeneration() {
    // The store keeps the last good split (generation 3) when generation 5 is invalid.
    Map<String, Object> status = desired(
        new Validation(5L, "r5", Optional.of("spec.mesh: canaryWeight 70 is out of range")),
        splits(TEST_10, 3), published("routes-of-test-10", splits(TEST_10, 3),
            Optional.empty()));

    assertThat(status).containsEntry("observedGeneration", 3L);
    assertThat(((Map<?, ?>) status.get("applied")).get("mesh"))
        .isEqualTo(Map.of("mode", "test", "canaryWeight", 10));
    assertThat(condition(status, "Valid")).containsEntry("status", "False")
        .containsEntry("reason", "InvalidSplit").containsEntry("observedGeneration", 5L);
    assertThat((String) condition(status, "Valid").get("message"))
        .contains("still serving the last good split: mesh test 10.0");
    assertThat(condition(status, "Progressing")).containsEntry("status", "False")
        .containsEntry("reason", "Published");
  }

  @Test
  void aValidSpecWhoseConfigurationWasRefusedIsNotProgressing() {
    Map<String, Object> status = desired(new Validation(4L, "r4", Optional.empty()),
        splits(DEPLOY_25, 4), published("routes-of-test-10", splits(TEST_10, 3),
            Optional.of("refused, proxies keep the previous configuration: bad route")));

    assertThat(status).containsEntry("observedGeneration", 3L);
    assertThat(condition(status, "Progressing")).containsEntry("status", "False")
        .containsEntry("reason", "PublishRefused");
    assertThat((String) condition(status, "Progressing").get("message"))
        .contains("generation 4 is valid but its configuration was refused");
  }
}
