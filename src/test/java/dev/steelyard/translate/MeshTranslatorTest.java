package dev.steelyard.translate;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.steelyard.view.MeshView;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster.ClusterWeight;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Resources for a sample view; each kind's output must also pass the validator. */
class MeshTranslatorTest {

  private static final MeshView VIEW = SampleViews.sample();

  // No serialize-and-parse round trip: through the same generated classes it cannot fail.
  private static ProxyResources built(ProxyKind kind) {
    ProxyResources built = MeshTranslator.translate(VIEW, kind, TranslatorSettings.DEFAULTS);
    assertThat(ResourceValidator.validate(kind, built)).isEmpty();
    return built;
  }

  private static Map<String, Integer> weights(VirtualHost host) {
    return host.getRoutes(0).getRoute().getWeightedClusters().getClustersList().stream()
        .collect(Collectors.toMap(ClusterWeight::getName, weight -> weight.getWeight().getValue()));
  }

  private static HttpConnectionManager manager(Listener listener)
      throws InvalidProtocolBufferException {
    return listener.hasApiListener()
        ? listener.getApiListener().getApiListener().unpack(HttpConnectionManager.class)
        : listener.getFilterChains(0).getFilters(0).getTypedConfig()
            .unpack(HttpConnectionManager.class);
  }

  @Test
  void everyAppHasThreeSubsetClustersAndAssignmentsEvenWhenEmpty() throws Exception {
    ProxyResources resources = built(ProxyKind.SIDECAR);
    assertThat(resources.clusters()).extracting(Cluster::getName).containsExactly(
        "default/hello-app/main", "default/hello-app/baseline", "default/hello-app/canary",
        "shop/cart/main", "shop/cart/baseline", "shop/cart/canary");
    assertThat(resources.clusters()).allSatisfy(cluster -> {
      assertThat(cluster.getType()).isEqualTo(Cluster.DiscoveryType.EDS);
      assertThat(cluster.getEdsClusterConfig().getEdsConfig().hasAds()).isTrue();
      assertThat(cluster.getEdsClusterConfig().getServiceName()).isEqualTo(cluster.getName());
    });
    Map<String, ClusterLoadAssignment> byName = resources.endpoints().stream()
        .collect(Collectors.toMap(ClusterLoadAssignment::getClusterName, cla -> cla));
    assertThat(byName.get("default/hello-app/main").getEndpoints(0).getLbEndpointsCount())
        .isEqualTo(2);
    assertThat(byName.get("default/hello-app/main").getEndpoints(0).getLoadBalancingWeight()
        .getValue()).isEqualTo(1);
    assertThat(byName.get("shop/cart/canary").getEndpointsList()).isEmpty();
  }

  @Test
  void envoyTalksHttp2ToGrpcAppsWhileGrpcClientsNeedNoOptions() throws Exception {
    Cluster envoyView = built(ProxyKind.GATEWAY).clusters().get(0);
    Cluster grpcView = built(ProxyKind.GRPC).clusters().get(0);
    Cluster httpApp = built(ProxyKind.GATEWAY).clusters().get(3);
    assertThat(envoyView.getTypedExtensionProtocolOptionsMap())
        .containsKey("envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
    assertThat(grpcView.getTypedExtensionProtocolOptionsMap()).isEmpty();
    assertThat(httpApp.getTypedExtensionProtocolOptionsMap()).isEmpty();
  }

  @Test
  void gatewayRoutesMatchGatewayHostsAndUseTheGatewaySplit() throws Exception {
    ProxyResources resources = built(ProxyKind.GATEWAY);
    Listener listener = resources.listeners().get(0);
    assertThat(listener.getName()).isEqualTo("steelyard_gateway");
    assertThat(listener.getAddress().getSocketAddress().getAddress()).isEqualTo("0.0.0.0");
    assertThat(listener.getAddress().getSocketAddress().getPortValue()).isEqualTo(10080);
    assertThat(manager(listener).getRds().getRouteConfigName()).isEqualTo("steelyard_gateway");

    RouteConfiguration routes = resources.routes().get(0);
    assertThat(routes.getVirtualHostsList()).as("cart has no gateway hosts").hasSize(1);
    VirtualHost hello = routes.getVirtualHosts(0);
    assertThat(hello.getDomainsList()).containsExactly("hello.example.com");
    assertThat(weights(hello)).isEqualTo(Map.of(
        "default/hello-app/main", 9000, "default/hello-app/canary", 1000));
  }

  @Test
  void sidecarRoutesMatchMeshNamesWithAndWithoutPortAndUseTheMeshSplit() throws Exception {
    ProxyResources resources = built(ProxyKind.SIDECAR);
    Listener listener = resources.listeners().get(0);
    assertThat(listener.getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.0.1");
    assertThat(listener.getAddress().getSocketAddress().getPortValue()).isEqualTo(15001);

    VirtualHost hello = resources.routes().get(0).getVirtualHosts(0);
    assertThat(hello.getDomainsList()).containsExactly(
        "hello-app", "hello-app:8080",
        "hello-app.default", "hello-app.default:8080",
        "hello-app.default.svc", "hello-app.default.svc:8080",
        "hello-app.default.svc.cluster.local", "hello-app.default.svc.cluster.local:8080");
    assertThat(weights(hello)).isEqualTo(Map.of("default/hello-app/main", 9000,
        "default/hello-app/baseline", 500, "default/hello-app/canary", 500));
    VirtualHost cart = resources.routes().get(0).getVirtualHosts(1);
    assertThat(weights(cart)).isEqualTo(Map.of("shop/cart/main", 10000));
  }

  @Test
  void grpcClientsGetAnApiListenerPerNameWithTheRouterLast() throws Exception {
    ProxyResources resources = built(ProxyKind.GRPC);
    assertThat(resources.listeners()).extracting(Listener::getName)
        .contains("hello-app", "hello-app:8080", "hello-app.default.svc.cluster.local",
            "cart", "cart.shop", "cart.shop.svc.cluster.local:80")
        .hasSize(16);
    for (Listener listener : resources.listeners()) {
      HttpConnectionManager manager = manager(listener);
      assertThat(manager.getHttpFiltersList()).isNotEmpty();
      assertThat(manager.getHttpFilters(manager.getHttpFiltersCount() - 1).getTypedConfig()
          .is(Router.class)).isTrue();
      assertThat(manager.getRds().getConfigSource().hasAds()).isTrue();
    }
    assertThat(resources.routes()).extracting(RouteConfiguration::getName)
        .containsExactly("grpc/default/hello-app", "grpc/shop/cart");
    assertThat(weights(resources.routes().get(0).getVirtualHosts(0))).containsEntry(
        "default/hello-app/baseline", 500);
  }

  @Test
  void aShortNameUsedInTwoNamespacesIsGivenToNeither() {
    MeshView view = dev.steelyard.split.MeshViewComposer.compose(List.of(
        new dev.steelyard.view.AppSpec(new dev.steelyard.view.AppKey("a", "web"), 80,
            dev.steelyard.view.AppProtocol.HTTP, List.of(), Map.of()),
        new dev.steelyard.view.AppSpec(new dev.steelyard.view.AppKey("b", "web"), 80,
            dev.steelyard.view.AppProtocol.HTTP, List.of(), Map.of())), Map.of());
    ProxyResources resources = MeshTranslator.translate(view, ProxyKind.SIDECAR,
        TranslatorSettings.DEFAULTS);
    assertThat(ResourceValidator.validate(ProxyKind.SIDECAR, resources)).isEmpty();
    assertThat(resources.routes().get(0).getVirtualHosts(0).getDomainsList())
        .doesNotContain("web").contains("web.a", "web.a.svc.cluster.local:80");
  }

  @Test
  void perAppSidecarRoutesGiveEachAppItsRouteConfigurationChosenByHostWithoutPort()
      throws Exception {
    TranslatorSettings perApp = TranslatorSettings.DEFAULTS
        .withSidecarRoutes(TranslatorSettings.SidecarRoutes.PER_APP);
    ProxyResources resources = MeshTranslator.translate(VIEW, ProxyKind.SIDECAR, perApp);
    assertThat(ResourceValidator.validate(ProxyKind.SIDECAR, resources)).isEmpty();
    assertThat(resources.routes()).extracting(RouteConfiguration::getName)
        .containsExactly("sidecar/default/hello-app", "sidecar/shop/cart");
    ProxyResources shared = built(ProxyKind.SIDECAR);
    assertThat(resources.routes().get(0).getVirtualHostsList())
        .as("the same virtual host as in the shared layout, domains and weights alike")
        .containsExactly(shared.routes().get(0).getVirtualHosts(0));

    HttpConnectionManager manager = manager(resources.listeners().get(0));
    assertThat(manager.hasRds()).isFalse();
    var scoped = manager.getScopedRoutes();
    var extractor = scoped.getScopeKeyBuilder().getFragments(0).getHeaderValueExtractor();
    assertThat(extractor.getName()).isEqualTo(":authority");
    assertThat(extractor.getElementSeparator()).isEqualTo(":");
    assertThat(extractor.getIndex()).isZero();
    assertThat(scoped.getRdsConfigSource().hasAds()).isTrue();
    assertThat(scoped.getScopedRds().getScopedRdsConfigSource().hasAds()).isTrue();
    assertThat(resources.listeners())
        .as("the listener names no app: adding one leaves it as it is")
        .isEqualTo(MeshTranslator.assemble(List.of(), ProxyKind.SIDECAR, perApp,
            ProxyScope.ALL).listeners());

    Map<String, String> routeByKey = resources.scopedRoutes().stream().collect(
        Collectors.toMap(scope -> scope.getKey().getFragments(0).getStringKey(),
            scope -> scope.getRouteConfigurationName()));
    assertThat(routeByKey).containsEntry("hello-app", "sidecar/default/hello-app")
        .containsEntry("hello-app.default.svc.cluster.local", "sidecar/default/hello-app")
        .containsEntry("cart.shop", "sidecar/shop/cart")
        .doesNotContainKey("hello-app:8080")
        .hasSize(8);
    assertThat(built(ProxyKind.GATEWAY).scopedRoutes()).as("only sidecars have scopes").isEmpty();
  }

  @Test
  void aScopedSidecarWithPerAppRoutesGetsTheScopesAndRoutesOfItsAppsOnly() {
    TranslatorSettings perApp = TranslatorSettings.DEFAULTS
        .withSidecarRoutes(TranslatorSettings.SidecarRoutes.PER_APP);
    ProxyResources resources = MeshTranslator.assemble(
        new TranslationCache().translate(VIEW).apps(), ProxyKind.SIDECAR, perApp,
        ProxyScope.parse(List.of("shop/*")));
    assertThat(ResourceValidator.validate(ProxyKind.SIDECAR, resources)).isEmpty();
    assertThat(resources.routes()).extracting(RouteConfiguration::getName)
        .containsExactly("sidecar/shop/cart");
    assertThat(resources.scopedRoutes()).extracting(scope -> scope.getRouteConfigurationName())
        .containsOnly("sidecar/shop/cart").hasSize(4);
  }

  @Test
  void validatorRefusesTwoScopesWithOneKeyAndAScopeWithoutItsRoutes() {
    TranslatorSettings perApp = TranslatorSettings.DEFAULTS
        .withSidecarRoutes(TranslatorSettings.SidecarRoutes.PER_APP);
    ProxyResources good = MeshTranslator.translate(VIEW, ProxyKind.SIDECAR, perApp);
    List<io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration> scopes =
        new java.util.ArrayList<>(good.scopedRoutes());
    scopes.add(scopes.get(0).toBuilder().setName("again").build());
    ProxyResources broken = new ProxyResources(good.clusters(), good.endpoints(),
        good.listeners(), scopes, good.routes().subList(0, 1));
    assertThat(ResourceValidator.validate(ProxyKind.SIDECAR, broken)).contains(
        "sidecar: scope 'again' has the key of another scope",
        "sidecar: scope 'cart.shop' names route configuration 'sidecar/shop/cart' that does not "
            + "exist");
  }

  @Test
  void validatorCollectsEveryBrokenReference() {
    ProxyResources good = MeshTranslator.translate(VIEW, ProxyKind.SIDECAR,
        TranslatorSettings.DEFAULTS);
    ProxyResources broken = new ProxyResources(good.clusters().subList(1, 6),
        good.endpoints().subList(0, 5), good.listeners(), List.of(), List.of(
            good.routes().get(0).toBuilder().setName("renamed").build()));
    assertThat(ResourceValidator.validate(ProxyKind.SIDECAR, broken)).containsExactly(
        "sidecar: cluster 'shop/cart/canary' has no endpoint assignment 'shop/cart/canary'",
        "sidecar: listener 'steelyard_sidecar_outbound' names route configuration "
            + "'steelyard_sidecar_outbound' that does not exist",
        "sidecar: route configuration 'renamed' virtual host 'default/hello-app': "
            + "route to unknown cluster 'default/hello-app/main'");
  }

  @Test
  void validatorRefusesANameDefinedTwiceInAType() {
    ProxyResources good = MeshTranslator.translate(VIEW, ProxyKind.SIDECAR,
        TranslatorSettings.DEFAULTS);
    List<ClusterLoadAssignment> twice = new java.util.ArrayList<>(good.endpoints());
    twice.add(good.endpoints().get(0));
    ProxyResources broken = new ProxyResources(good.clusters(), twice, good.listeners(),
        List.of(), good.routes());
    assertThat(ResourceValidator.validate(ProxyKind.SIDECAR, broken)).containsExactly(
        "sidecar: endpoint assignment '" + good.endpoints().get(0).getClusterName()
            + "' is defined twice");
  }
}
