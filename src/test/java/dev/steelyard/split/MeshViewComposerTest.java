package dev.steelyard.split;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.AppView;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import dev.steelyard.view.SubsetWeights;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class MeshViewComposerTest {

  private static final AppKey APP = new AppKey("default", "hello-app");

  private static AppSpec spec(int main, int baseline, int canary) {
    return new AppSpec(APP, 8080, AppProtocol.HTTP, List.of("hello.example.com"), Map.of(
        SubsetRole.MAIN, endpoints(1, main),
        SubsetRole.BASELINE, endpoints(2, baseline),
        SubsetRole.CANARY, endpoints(3, canary)));
  }

  private static List<Endpoint> endpoints(int subnet, int count) {
    return java.util.stream.IntStream.range(0, count)
        .mapToObj(i -> new Endpoint("10.0." + subnet + "." + (i + 1), 8080)).toList();
  }

  private static AppView compose(AppSpec spec, AppSplits splits) {
    return MeshViewComposer.compose(List.of(spec), Map.of(APP, splits)).apps().get(0);
  }

  @Test
  void appsWithoutASplitGetOff() {
    AppView app = MeshViewComposer.compose(List.of(spec(1, 1, 1)), Map.of()).apps().get(0);
    assertThat(app.mesh().effective()).isEqualTo(SubsetWeights.ALL_MAIN);
    assertThat(app.gateway().effective()).isEqualTo(SubsetWeights.ALL_MAIN);
  }

  @Test
  void gatewayFollowsMeshUnlessSetOnItsOwn() throws InvalidSplitException {
    SplitPolicy mesh = SplitPolicy.of("deploy", 1);
    AppView following = compose(spec(3, 1, 1), new AppSplits(mesh, Optional.empty()));
    assertThat(following.gateway().effective()).isEqualTo(new SubsetWeights(9800, 100, 100));

    AppView own = compose(spec(3, 1, 1),
        new AppSplits(mesh, Optional.of(SplitPolicy.of("deploy", 5))));
    assertThat(own.mesh().effective()).isEqualTo(new SubsetWeights(9800, 100, 100));
    assertThat(own.gateway().effective()).isEqualTo(new SubsetWeights(9000, 500, 500));
  }

  @Test
  void shareOfAnEmptySubsetGoesToMainWithANotice() throws InvalidSplitException {
    AppView app = compose(spec(2, 0, 1),
        new AppSplits(SplitPolicy.of("deploy", 10), Optional.empty()));
    assertThat(app.mesh().set()).isEqualTo(new SubsetWeights(8000, 1000, 1000));
    assertThat(app.mesh().effective()).isEqualTo(new SubsetWeights(9000, 0, 1000));
    assertThat(app.mesh().notices())
        .containsExactly("mesh: baseline has no ready endpoints; its 10.0 % goes to main");
    assertThat(app.gateway().notices())
        .containsExactly("gateway: baseline has no ready endpoints; its 10.0 % goes to main");
  }

  @Test
  void mainWithoutEndpointsIsReportedNotHidden() throws InvalidSplitException {
    AppView app = compose(spec(0, 0, 1),
        new AppSplits(SplitPolicy.of("test", 10), Optional.empty()));
    assertThat(app.mesh().effective()).isEqualTo(new SubsetWeights(9000, 0, 1000));
    assertThat(app.mesh().notices()).singleElement().asString()
        .contains("main has no ready endpoints");
  }

  @Test
  void aGatewayHostAnotherAppClaimedFirstIsLeftOutOfTheLaterAppOnly() {
    AppKey other = new AppKey("default", "another");
    AppSpec mine = spec(1, 0, 0);
    AppSpec theirs = new AppSpec(other, 8080, AppProtocol.HTTP,
        List.of("HELLO.example.com", "own.example.com"), Map.of(SubsetRole.MAIN, endpoints(4, 1)));
    List<AppView> apps = MeshViewComposer.compose(List.of(mine, theirs), Map.of()).apps();
    // default/another sorts first, so it keeps the host; hello-app loses it.
    assertThat(apps.get(0).spec().gatewayHosts())
        .containsExactly("HELLO.example.com", "own.example.com");
    assertThat(apps.get(0).gateway().notices()).isEmpty();
    assertThat(apps.get(1).spec().gatewayHosts()).isEmpty();
    assertThat(apps.get(1).gateway().notices()).containsExactly("gateway: host "
        + "hello.example.com belongs to default/another; left out of this app's gateway routes");
    assertThat(apps.get(1).mesh().notices()).isEmpty();
  }
}
