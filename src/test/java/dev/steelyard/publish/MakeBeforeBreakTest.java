package dev.steelyard.publish;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.split.AppSplits;
import dev.steelyard.split.MeshViewComposer;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.translate.MeshTranslator;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.ProxyResources;
import dev.steelyard.translate.ResourceValidator;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The stages of a change, on the gateway's resources for small meshes. */
class MakeBeforeBreakTest {

  private static final AppKey HELLO = new AppKey("default", "hello-app");
  private static final AppKey OTHER = new AppKey("default", "other-app");

  @Test
  void aWeightChangeIsOneStage() throws Exception {
    ProxyResources before = gateway(hello(1, 1, 1), SplitPolicy.of("deploy", 5));
    ProxyResources after = gateway(hello(1, 1, 1), SplitPolicy.of("deploy", 25));
    assertThat(MakeBeforeBreak.stages(before, after)).containsExactly(after);
  }

  @Test
  void anEndpointChangeThatLeavesEverySubsetFilledIsOneStage() throws Exception {
    ProxyResources before = gateway(hello(2, 1, 1), SplitPolicy.of("deploy", 5));
    ProxyResources after = gateway(hello(1, 1, 1), SplitPolicy.of("deploy", 5));
    assertThat(MakeBeforeBreak.stages(before, after)).containsExactly(after);
  }

  @Test
  void anEmptiedSubsetKeepsItsEndpointsUntilTheRoutesHaveMovedItsShare() throws Exception {
    ProxyResources before = gateway(hello(1, 1, 1), SplitPolicy.of("deploy", 10));
    ProxyResources after = gateway(hello(1, 1, 0), SplitPolicy.of("deploy", 10));
    List<ProxyResources> stages = MakeBeforeBreak.stages(before, after);

    assertThat(stages).hasSize(2).last().isEqualTo(after);
    ProxyResources moved = stages.get(0);
    assertThat(moved.routes()).isEqualTo(after.routes());
    assertThat(weightOf(moved, "default/hello-app/canary")).isZero();
    assertThat(endpoints(moved, "default/hello-app/canary")).isEqualTo(1);
    assertThat(endpoints(after, "default/hello-app/canary")).isZero();
  }

  @Test
  void aFilledSubsetGetsItsEndpointsBeforeTheRoutesGiveItAShare() throws Exception {
    ProxyResources before = gateway(hello(1, 1, 0), SplitPolicy.of("deploy", 10));
    ProxyResources after = gateway(hello(1, 1, 1), SplitPolicy.of("deploy", 10));
    List<ProxyResources> stages = MakeBeforeBreak.stages(before, after);

    assertThat(stages).hasSize(2).last().isEqualTo(after);
    assertThat(stages.get(0).routes()).isEqualTo(before.routes());
    assertThat(endpoints(stages.get(0), "default/hello-app/canary")).isEqualTo(1);
  }

  @Test
  void aNewAppsClustersAndEndpointsComeBeforeItsRoutes() throws Exception {
    ProxyResources before = gateway(hello(1, 1, 1), SplitPolicy.of("deploy", 10));
    ProxyResources after = gateway(List.of(hello(1, 1, 1), other()), SplitPolicy.of("deploy", 10));
    List<ProxyResources> stages = MakeBeforeBreak.stages(before, after);

    assertThat(stages).hasSize(2).last().isEqualTo(after);
    assertThat(clusterNames(stages.get(0))).contains("default/other-app/main");
    assertThat(stages.get(0).routes()).isEqualTo(before.routes());
  }

  @Test
  void aRemovedAppsRoutesGoBeforeItsClusters() throws Exception {
    ProxyResources before = gateway(List.of(hello(1, 1, 1), other()), SplitPolicy.of("off", 0));
    ProxyResources after = gateway(hello(1, 1, 1), SplitPolicy.of("off", 0));
    List<ProxyResources> stages = MakeBeforeBreak.stages(before, after);

    assertThat(stages).hasSize(2).last().isEqualTo(after);
    assertThat(stages.get(0).routes()).isEqualTo(after.routes());
    assertThat(clusterNames(stages.get(0))).contains("default/other-app/main");
    assertThat(clusterNames(after)).doesNotContain("default/other-app/main");
  }

  @Test
  void everyStageOfEveryKindIsAValidSnapshot() throws Exception {
    List<AppSpec> before = List.of(hello(2, 1, 1), other());
    List<AppSpec> after = List.of(hello(1, 1, 0));
    for (ProxyKind kind : ProxyKind.values()) {
      for (ProxyResources stage : MakeBeforeBreak.stages(
          resources(kind, before, SplitPolicy.of("deploy", 10)),
          resources(kind, after, SplitPolicy.of("deploy", 10)))) {
        assertThat(ResourceValidator.validate(kind, stage)).as(kind.label()).isEmpty();
      }
    }
  }

  private static AppSpec hello(int main, int baseline, int canary) {
    Map<SubsetRole, List<Endpoint>> endpoints = new EnumMap<>(SubsetRole.class);
    int[] counts = {main, baseline, canary};
    for (SubsetRole role : SubsetRole.values()) {
      List<Endpoint> list = new java.util.ArrayList<>();
      for (int i = 0; i < counts[role.ordinal()]; i++) {
        list.add(new Endpoint("10.0." + role.ordinal() + "." + (i + 1), 8080));
      }
      endpoints.put(role, list);
    }
    return new AppSpec(HELLO, 8080, AppProtocol.HTTP, List.of("hello.example.com"), endpoints);
  }

  private static AppSpec other() {
    return new AppSpec(OTHER, 8080, AppProtocol.HTTP, List.of("other.example.com"),
        Map.of(SubsetRole.MAIN, List.of(new Endpoint("10.1.0.1", 8080))));
  }

  private static ProxyResources gateway(AppSpec app, SplitPolicy split) {
    return gateway(List.of(app), split);
  }

  private static ProxyResources gateway(List<AppSpec> apps, SplitPolicy split) {
    return resources(ProxyKind.GATEWAY, apps, split);
  }

  private static ProxyResources resources(ProxyKind kind, List<AppSpec> apps, SplitPolicy split) {
    return MeshTranslator.translate(MeshViewComposer.compose(apps,
        Map.of(HELLO, new AppSplits(split, Optional.empty()))), kind, TranslatorSettings.DEFAULTS);
  }

  private static int weightOf(ProxyResources resources, String cluster) {
    return resources.routes().get(0).getVirtualHostsList().stream()
        .flatMap(host -> host.getRoutesList().stream())
        .flatMap(route -> route.getRoute().getWeightedClusters().getClustersList().stream())
        .filter(weight -> weight.getName().equals(cluster))
        .mapToInt(weight -> weight.getWeight().getValue()).sum();
  }

  private static int endpoints(ProxyResources resources, String cluster) {
    return resources.endpoints().stream().filter(a -> a.getClusterName().equals(cluster))
        .mapToInt(ClusterLoadAssignment::getEndpointsCount).sum();
  }

  private static List<String> clusterNames(ProxyResources resources) {
    return resources.clusters().stream().map(Cluster::getName).toList();
  }
}
