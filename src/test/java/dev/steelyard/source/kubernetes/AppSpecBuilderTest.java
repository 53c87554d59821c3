package dev.steelyard.source.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppSpec;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pure rules of Kubernetes discovery that concern annotations, without a mock server. */
class AppSpecBuilderTest {

  private static final KubernetesSourceSettings SETTINGS = KubernetesSourceSettings.DEFAULTS;

  private static Service service(String name, String hosts) {
    return new ServiceBuilder(KubeObjects.service("default", name, "app", 80,
        new IntOrString(8080), "http"))
        .editMetadata().addToAnnotations("steelyard.dev/gateway-hosts", hosts).endMetadata()
        .build();
  }

  private static Pod pod(String app) {
    return KubeObjects.pod("default", app + "-1", Map.of("app", app, "app-role", "main"),
        "10.0.0.1", true, Map.of());
  }

  @Test
  void gatewayHostsAreLowerCasedAndOneHostIsNeverGivenTwice() {
    List<String> warnings = new ArrayList<>();
    List<AppSpec> apps = AppSpecBuilder.build(
        List.of(service("a", "Shop.Example.com"), service("b", "shop.example.com,b.example.com")),
        List.of(pod("a"), pod("b")), SETTINGS, warnings::add);
    assertThat(apps).extracting(AppSpec::gatewayHosts).containsExactly(
        List.of("shop.example.com"), List.of("b.example.com"));
    assertThat(warnings).singleElement().asString()
        .contains("gateway host shop.example.com already belongs to default/a");
  }

  @Test
  void aBadAnnotationKeepsTheLastGoodSpecInsteadOfDroppingTheApp() {
    List<AppSpec> good = AppSpecBuilder.build(List.of(service("a", "a.example.com")),
        List.of(pod("a")), SETTINGS, warning -> {});
    List<String> warnings = new ArrayList<>();
    List<AppSpec> withBadHost = AppSpecBuilder.build(List.of(service("a", "not a host")),
        List.of(pod("a")), SETTINGS, warnings::add,
        Map.of(new AppKey("default", "a"), good.get(0)));
    assertThat(withBadHost).containsExactly(good.get(0));
    assertThat(warnings).singleElement().asString()
        .contains("steelyard.dev/gateway-hosts: 'not a host' is not a host name")
        .contains("serving its last good spec");

    assertThat(AppSpecBuilder.build(List.of(service("a", "not a host")), List.of(pod("a")),
        SETTINGS, warning -> {})).as("without a last good spec the app is left out").isEmpty();
  }
}
