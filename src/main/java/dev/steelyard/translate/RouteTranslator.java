package dev.steelyard.translate;

import com.google.protobuf.Duration;
import com.google.protobuf.UInt32Value;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import dev.steelyard.view.SubsetWeights;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import java.util.List;

/**
 * Route configurations: the only resources that carry weights. Weights are basis points, so a
 * route's cluster weights always sum to {@link SubsetWeights#TOTAL}; subsets at 0 are left out.
 *
 * <p>Every route sets {@code timeout: 0s}: Envoy's default of 15 s would cut off long requests
 * and every gRPC stream with "upstream request timeout". Time limits are the app's business (a
 * client deadline, a gRPC timeout header); an idle stream still ends after Envoy's
 * {@code stream_idle_timeout} (5 min).
 */
public final class RouteTranslator {

  private static final Duration NO_TIMEOUT = Duration.getDefaultInstance();

  private RouteTranslator() {}

  /** One route configuration for the gateway: a virtual host per app with gateway hosts. */
  public static RouteConfiguration gateway(List<VirtualHost> hosts) {
    return RouteConfiguration.newBuilder().setName(ResourceNames.GATEWAY_ROUTES)
        // Clients send "Host: hello-app.example.com:10080" when the gateway's port is not
        // the scheme's default; Envoy would otherwise match the port too and answer 404.
        .setIgnorePortInHostMatching(true)
        .addAllVirtualHosts(hosts)
        .build();
  }

  /** One route configuration for sidecars: a virtual host per app with its mesh names. */
  public static RouteConfiguration sidecar(List<VirtualHost> hosts) {
    return RouteConfiguration.newBuilder().setName(ResourceNames.SIDECAR_ROUTES)
        .addAllVirtualHosts(hosts)
        .build();
  }

  /** An app's own route configuration on sidecars with per-app routes. */
  public static RouteConfiguration sidecarApp(AppKey app, VirtualHost meshHost) {
    return RouteConfiguration.newBuilder()
        .setName(ResourceNames.sidecarRoutes(app))
        .addVirtualHosts(meshHost)
        .build();
  }

  /**
   * The scopes that send a request to {@code app}'s own route configuration: one per name it is
   * called by, without the port (the scope key is the Host header up to its first ':'). The
   * configuration's virtual host then matches the name with or without the app's port, as the
   * shared layout does.
   */
  public static List<ScopedRouteConfiguration> sidecarScopes(AppKey app, List<String> meshHosts) {
    List<ScopedRouteConfiguration> scopes = new java.util.ArrayList<>();
    for (String host : meshHosts) {
      if (host.indexOf(':') < 0) {
        scopes.add(ScopedRouteConfiguration.newBuilder()
            .setName(host)
            .setRouteConfigurationName(ResourceNames.sidecarRoutes(app))
            .setKey(ScopedRouteConfiguration.Key.newBuilder().addFragments(
                ScopedRouteConfiguration.Key.Fragment.newBuilder().setStringKey(host)))
            .build());
      }
    }
    return scopes;
  }

  /** An app's own route configuration, for proxyless gRPC clients. */
  public static RouteConfiguration grpc(AppKey app, VirtualHost meshHost) {
    return RouteConfiguration.newBuilder()
        .setName(ResourceNames.grpcRoutes(app))
        .addVirtualHosts(meshHost)
        .build();
  }

  static VirtualHost virtualHost(AppKey app, List<String> domains, SubsetWeights weights) {
    return VirtualHost.newBuilder()
        .setName(app.toString())
        .addAllDomains(domains)
        .addRoutes(Route.newBuilder()
            .setName(app + "/split")
            .setMatch(RouteMatch.newBuilder().setPrefix(""))
            .setRoute(RouteAction.newBuilder()
                .setWeightedClusters(weightedClusters(app, weights))
                .setTimeout(NO_TIMEOUT)))
        .build();
  }

  static WeightedCluster weightedClusters(AppKey app, SubsetWeights weights) {
    WeightedCluster.Builder clusters = WeightedCluster.newBuilder();
    for (SubsetRole role : SubsetRole.values()) {
      int weight = weights.get(role);
      if (weight > 0) {
        clusters.addClusters(WeightedCluster.ClusterWeight.newBuilder()
            .setName(ResourceNames.cluster(app, role))
            .setWeight(UInt32Value.of(weight)));
      }
    }
    return clusters.build();
  }
}
