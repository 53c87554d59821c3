package dev.steelyard.xds;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.split.AppSplits;
import dev.steelyard.split.MeshViewComposer;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.translate.MeshTranslator;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ContentVersionTest {

  private static final AppKey APP = new AppKey("default", "hello-app");

  private record Versions(String clusters, String endpoints, String listeners, String routes) {}

  /** The whole-type versions of the sidecar snapshot, as the publisher makes it. */
  private static Versions versions(List<String> mainIps, SplitPolicy split) {
    AppSpec spec = new AppSpec(APP, 8080, AppProtocol.HTTP, List.of("hello.example.com"),
        Map.of(SubsetRole.MAIN, mainIps.stream().map(ip -> new Endpoint(ip, 8080)).toList(),
            SubsetRole.CANARY, List.of(new Endpoint("10.0.9.9", 8080))));
    NamedVersionSnapshot snapshot = NamedVersionSnapshot.next(null, MeshTranslator.translate(
        MeshViewComposer.compose(List.of(spec), Map.of(APP, new AppSplits(split,
            Optional.empty()))), ProxyKind.SIDECAR, TranslatorSettings.DEFAULTS));
    return new Versions(snapshot.wholeVersion(XdsType.CLUSTERS),
        snapshot.wholeVersion(XdsType.ENDPOINTS), snapshot.wholeVersion(XdsType.LISTENERS),
        snapshot.wholeVersion(XdsType.ROUTES));
  }

  @Test
  void versionsArePinnedContentHashesNotPerProcessValues() {
    // Fixed values: a change here means every proxy in a fleet gets a push on upgrade, or that
    // serialization became non-deterministic. Both deserve a look before updating the pins.
    Versions versions = versions(List.of("10.0.0.1"), SplitPolicy.OFF);
    assertThat(versions).isEqualTo(versions(List.of("10.0.0.1"), SplitPolicy.OFF));
    assertThat(versions.clusters()).hasSize(16).matches("[0-9a-f]+");
    assertThat(versions.routes()).isEqualTo(PINNED_ROUTES);
    assertThat(versions.clusters()).isEqualTo(PINNED_CLUSTERS);
  }

  // Routes moved when every route got an explicit `timeout: 0s` (Envoy cut long requests at 15 s).
  private static final String PINNED_ROUTES = "6536ce249ec24efa";
  private static final String PINNED_CLUSTERS = "24ba311f9fdc7991";

  @Test
  void aWeightChangeTouchesOnlyRoutes() throws Exception {
    Versions off = versions(List.of("10.0.0.1"), SplitPolicy.OFF);
    Versions test = versions(List.of("10.0.0.1"), SplitPolicy.of("test", 10));
    assertThat(test.routes()).isNotEqualTo(off.routes());
    assertThat(test.clusters()).isEqualTo(off.clusters());
    assertThat(test.endpoints()).isEqualTo(off.endpoints());
    assertThat(test.listeners()).isEqualTo(off.listeners());
  }

  @Test
  void anEndpointChangeTouchesOnlyEndpoints() {
    Versions one = versions(List.of("10.0.0.1"), SplitPolicy.OFF);
    Versions two = versions(List.of("10.0.0.2", "10.0.0.1"), SplitPolicy.OFF);
    assertThat(two.endpoints()).isNotEqualTo(one.endpoints());
    assertThat(two.clusters()).isEqualTo(one.clusters());
    assertThat(two.routes()).isEqualTo(one.routes());
    assertThat(two.listeners()).isEqualTo(one.listeners());
  }
}
