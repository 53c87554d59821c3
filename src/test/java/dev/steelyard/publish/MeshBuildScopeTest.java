package dev.steelyard.publish;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.translate.AppResources;
import dev.steelyard.translate.ProxyScope;
import dev.steelyard.translate.TranslationCache;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A scope's apps, looked up by key and namespace, are exactly the apps it includes, in order. */
class MeshBuildScopeTest {

  @Test
  void aScopesAppsAreTheIncludedOnesInTheViewsOrder() {
    List<AppSpec> specs = new ArrayList<>();
    for (String namespace : List.of("shop", "default", "pay")) {
      for (int i = 0; i < 5; i++) {
        specs.add(new AppSpec(new AppKey(namespace, "app-" + i), 80, AppProtocol.HTTP,
            List.of(), Map.of(SubsetRole.MAIN, List.of(new Endpoint("10.0.0." + i, 80)))));
      }
    }
    MeshBuild build = MeshBuild.of(specs, Map.of(), TranslatorSettings.DEFAULTS,
        new TranslationCache());
    for (List<String> declared : List.of(List.of("shop/*"), List.of("default/app-3"),
        List.of("default/app-3", "shop/*", "shop/app-1", "pay/app-9"),
        List.of("pay/app-4", "default/*", "pay/app-0"))) {
      ProxyScope scope = ProxyScope.parse(declared);
      List<AppResources> expected = build.apps().stream()
          .filter(app -> scope.includes(app.key())).toList();
      assertThat(build.appsIn(scope)).as("%s", declared).isEqualTo(expected);
    }
    assertThat(build.appsIn(ProxyScope.ALL)).isEqualTo(build.apps());
  }
}
