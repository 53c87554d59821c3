package dev.steelyard.translate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.publish.MeshBuild;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.MeshViewComposer;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.MeshView;
import dev.steelyard.view.SubsetRole;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Incremental translation gives exactly what translating the whole view gives, and reuses the
 * instances of the apps that did not change (what makes a change cost what it changes).
 */
class TranslationCacheTest {

  private static final int APPS = 40;

  @Test
  void randomChangesTranslateAsTheWholeViewAndKeepUnchangedAppsInstances() throws Exception {
    Random random = new Random(7);
    List<AppSpec> specs = new ArrayList<>();
    for (int i = 0; i < APPS; i++) {
      specs.add(spec(i, 1 + i % 3, i % 5 == 0 ? List.of("app-" + i + ".example.com") : List.of()));
    }
    Map<AppKey, AppSplits> splits = new HashMap<>();
    TranslationCache cache = new TranslationCache();
    List<AppResources> before = cache.translate(MeshViewComposer.compose(specs, splits)).apps();
    for (int round = 0; round < 60; round++) {
      int changed = random.nextInt(APPS);
      AppKey key = specs.get(changed).key();
      int change = random.nextInt(4);
      switch (change) {
        case 0 -> splits.put(key, new AppSplits(SplitPolicy.of("test", random.nextInt(100)),
            Optional.empty()));
        case 1 -> splits.put(key, new AppSplits(SplitPolicy.of("deploy", 1 + random.nextInt(49)),
            Optional.of(SplitPolicy.of("test", random.nextInt(100)))));
        case 2 -> specs.set(changed, spec(changed, random.nextInt(4), List.of()));
        default -> specs.set(changed, spec(changed, 2, List.of("x" + round + ".example.com")));
      }
      MeshView view = MeshViewComposer.compose(specs, splits);
      List<AppResources> after = cache.translate(view).apps();
      for (ProxyKind kind : ProxyKind.values()) {
        assertThat(MeshTranslator.assemble(after, kind, TranslatorSettings.DEFAULTS,
            ProxyScope.ALL)).isEqualTo(MeshTranslator.translate(view, kind,
            TranslatorSettings.DEFAULTS));
      }
      Map<AppKey, AppResources> previous = new HashMap<>();
      before.forEach(app -> previous.put(app.key(), app));
      for (AppResources app : after) {
        if (!app.key().equals(key)) {
          assertThat(app).as("%s, untouched in round %d", app.key(), round)
              .isSameAs(previous.get(app.key()));
        } else if (change <= 1) {
          // A weight change re-translates the app but keeps what the weights do not touch.
          AppResources old = previous.get(key);
          assertThat(app.envoyClusters()).isSameAs(old.envoyClusters());
          assertThat(app.assignments()).isSameAs(old.assignments());
          assertThat(app.grpcListeners()).isSameAs(old.grpcListeners());
        }
      }
      before = after;
    }
    assertThat(cache.reused()).isGreaterThanOrEqualTo(60L * (APPS - 1));
  }

  @Test
  void anAppWhoseShortNameBecomesAmbiguousIsTranslatedAgain() {
    TranslationCache cache = new TranslationCache();
    AppSpec hello = new AppSpec(new AppKey("default", "hello"), 80, AppProtocol.HTTP, List.of(),
        Map.of(SubsetRole.MAIN, List.of(new Endpoint("10.0.0.1", 80))));
    AppResources alone = cache.translate(MeshViewComposer.compose(List.of(hello), Map.of()))
        .apps().get(0);
    assertThat(alone.meshHost().getDomainsList()).contains("hello");
    AppSpec other = new AppSpec(new AppKey("shop", "hello"), 80, AppProtocol.HTTP, List.of(),
        Map.of());
    AppResources shared = cache.translate(MeshViewComposer.compose(List.of(hello, other),
        Map.of())).apps().get(0);
    // Two apps named hello: neither may keep the short name.
    assertThat(shared.meshHost().getDomainsList()).doesNotContain("hello")
        .contains("hello.default");
  }

  @Test
  void anAppWhoseResourcesDoNotValidateKeepsItsLastValidOnesAndTheOthersGoOn()
      throws Exception {
    // A translator that loses the canary assignment of app-1 whenever its mesh weight is 7 %.
    TranslationCache cache = new TranslationCache((app, hosts) -> {
      AppResources good = AppResources.of(app, hosts);
      if (!app.key().name().equals("app-1")
          || app.mesh().effective().get(SubsetRole.CANARY) != 700) {
        return good;
      }
      return new AppResources(good.key(), good.envoyClusters(), good.grpcClusters(),
          good.assignments().subList(0, 2), good.grpcListeners(), good.grpcRoutes(),
          good.meshHost(), good.sidecarRoutes(), good.sidecarScopes(), good.gatewayHost());
    });
    List<AppSpec> specs = List.of(spec(0, 2, List.of()), spec(1, 2, List.of()),
        spec(2, 2, List.of()));
    AppKey broken = specs.get(1).key();
    Map<AppKey, AppSplits> splits = new HashMap<>();
    splits.put(broken, new AppSplits(SplitPolicy.of("test", 7), Optional.empty()));

    // Never valid: left out, the others served.
    TranslationCache.Translation first = cache.translate(MeshViewComposer.compose(specs, splits));
    assertThat(first.apps()).extracting(AppResources::key)
        .containsExactly(specs.get(0).key(), specs.get(2).key());
    assertThat(first.notices()).containsOnlyKeys(broken);
    assertThat(first.notices().get(broken)).contains("not published")
        .contains("cluster 'shop/app-1/canary' has no endpoint assignment")
        .endsWith("proxies do not get this app");

    // Valid at 5 %: served, no notice.
    splits.put(broken, new AppSplits(SplitPolicy.of("test", 5), Optional.empty()));
    TranslationCache.Translation valid = cache.translate(MeshViewComposer.compose(specs, splits));
    assertThat(valid.apps()).hasSize(3);
    assertThat(valid.notices()).isEmpty();
    // The view is sorted by key: default/app-0, default/app-2, shop/app-1.
    AppResources lastValid = valid.apps().get(2);
    assertThat(lastValid.key()).isEqualTo(broken);

    // Invalid again at 7 %, while another app changes too: app-1 keeps its 5 % pieces.
    splits.put(broken, new AppSplits(SplitPolicy.of("test", 7), Optional.empty()));
    splits.put(specs.get(2).key(), new AppSplits(SplitPolicy.of("test", 30), Optional.empty()));
    TranslationCache.Translation again = cache.translate(MeshViewComposer.compose(specs, splits));
    assertThat(again.apps()).hasSize(3);
    assertThat(again.apps().get(2)).isSameAs(lastValid);
    assertThat(again.apps().get(1)).isNotSameAs(valid.apps().get(1));
    assertThat(again.notices().get(broken)).endsWith("keep its last valid configuration");
    for (ProxyKind kind : ProxyKind.values()) {
      assertThat(ResourceValidator.validate(kind, MeshTranslator.assemble(again.apps(), kind,
          TranslatorSettings.DEFAULTS, ProxyScope.ALL))).isEmpty();
    }

    // What a publish makes of it: a valid build, the notice on the app in the served view.
    MeshBuild build = MeshBuild.of(specs, splits, TranslatorSettings.DEFAULTS, cache);
    assertThat(build.valid()).isTrue();
    assertThat(build.invalidApps()).containsOnlyKeys(broken);
    assertThat(build.view().app(broken).orElseThrow().mesh().notices())
        .contains(again.notices().get(broken));
    assertThat(build.view().app(specs.get(0).key()).orElseThrow().mesh().notices()).isEmpty();
  }

  @Test
  void theTogetherCheckFollowsEveryChangeOfNamesAndIsOnlyKeptAcrossOthers() throws Exception {
    // app-1 with 3 endpoints per subset calls one of its gRPC listeners "app-0": valid on its
    // own, a name defined twice once put together with app-0.
    TranslationCache cache = new TranslationCache((app, hosts) -> {
      AppResources good = AppResources.of(app, hosts);
      if (!app.key().name().equals("app-1")
          || app.spec().endpoints(SubsetRole.MAIN).size() != 3) {
        return good;
      }
      List<io.envoyproxy.envoy.config.listener.v3.Listener> listeners =
          new ArrayList<>(good.grpcListeners());
      listeners.set(0, listeners.get(0).toBuilder().setName("app-0").build());
      return new AppResources(good.key(), good.envoyClusters(), good.grpcClusters(),
          good.assignments(), listeners, good.grpcRoutes(), good.meshHost(),
          good.sidecarRoutes(), good.sidecarScopes(), good.gatewayHost());
    });
    List<AppSpec> specs = new ArrayList<>(List.of(spec(0, 2, List.of()), spec(1, 2, List.of()),
        spec(2, 2, List.of())));
    Map<AppKey, AppSplits> splits = new HashMap<>();
    String twice = "grpc: listener 'app-0' is defined twice";
    assertThat(together(cache, specs, splits)).isEmpty();
    specs.set(1, spec(1, 3, List.of()));
    assertThat(together(cache, specs, splits)).containsExactly(twice);
    splits.put(specs.get(2).key(), new AppSplits(SplitPolicy.of("test", 20), Optional.empty()));
    assertThat(together(cache, specs, splits)).as("a weight change keeps it")
        .containsExactly(twice);
    specs.set(1, spec(1, 2, List.of()));
    assertThat(together(cache, specs, splits)).isEmpty();
    specs.remove(2);
    assertThat(together(cache, specs, splits)).isEmpty();
  }

  /** What the cache's together check finds for gRPC clients, checked against a fresh check. */
  private static List<String> together(TranslationCache cache, List<AppSpec> specs,
      Map<AppKey, AppSplits> splits) {
    List<AppResources> apps = cache.translate(MeshViewComposer.compose(specs, splits)).apps();
    ProxyResources built = MeshTranslator.assemble(apps, ProxyKind.GRPC,
        TranslatorSettings.DEFAULTS, ProxyScope.ALL);
    List<String> errors = cache.validateTogether(ProxyKind.GRPC, built);
    assertThat(errors).isEqualTo(ResourceValidator.validateTogether(ProxyKind.GRPC, built));
    return errors;
  }

  private static AppSpec spec(int i, int endpoints, List<String> gatewayHosts) {
    Map<SubsetRole, List<Endpoint>> byRole = new HashMap<>();
    for (SubsetRole role : SubsetRole.values()) {
      List<Endpoint> list = new ArrayList<>();
      for (int e = 0; e < endpoints; e++) {
        list.add(new Endpoint("10." + i + "." + role.ordinal() + "." + e, 8080));
      }
      byRole.put(role, list);
    }
    return new AppSpec(new AppKey(i % 2 == 0 ? "default" : "shop", "app-" + i), 8080,
        i % 4 == 0 ? AppProtocol.GRPC : AppProtocol.HTTP, gatewayHosts, byRole);
  }
}
