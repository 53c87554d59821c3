package dev.steelyard.translate;

import com.google.protobuf.Any;
import dev.steelyard.view.AppKey;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.ApiListener;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ScopedRds;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.ScopedRoutes;
import java.util.ArrayList;
import java.util.List;

/**
 * Listeners. Envoy gets a socket listener whose routes come by RDS; a gRPC client gets one API
 * listener per name it may dial ({@code xds:///hello-app} asks for the listener
 * {@code hello-app}). All routes come by RDS, so weight changes never touch listeners.
 */
public final class ListenerTranslator {

  private static final HttpFilter ROUTER = HttpFilter.newBuilder()
      .setName("envoy.filters.http.router")
      .setTypedConfig(Any.pack(Router.getDefaultInstance()))
      .build();

  private ListenerTranslator() {}

  public static Listener gateway(int port) {
    return socketListener(ResourceNames.GATEWAY_LISTENER, "0.0.0.0", port,
        ResourceNames.GATEWAY_ROUTES, "gateway");
  }

  /** Explicit outbound proxy on loopback: apps send to 127.0.0.1:port with the target's Host. */
  public static Listener sidecar(int port) {
    return socketListener(ResourceNames.SIDECAR_LISTENER, "127.0.0.1", port,
        ResourceNames.SIDECAR_ROUTES, "sidecar_outbound");
  }

  /**
   * The outbound listener of sidecars with per-app routes: the Host header up to its first ':'
   * chooses a scope (scoped routes, by SRDS), whose route configuration (one app's) comes by
   * RDS. A Host no scope has is answered 404, as a Host no virtual host has in the shared
   * layout. The listener names no app, so adding or removing one leaves it as it is.
   */
  public static Listener sidecarPerApp(int port) {
    HttpConnectionManager manager = HttpConnectionManager.newBuilder()
        .setStatPrefix("sidecar_outbound")
        .setScopedRoutes(ScopedRoutes.newBuilder()
            .setName(ResourceNames.SIDECAR_ROUTES)
            .setScopeKeyBuilder(ScopedRoutes.ScopeKeyBuilder.newBuilder().addFragments(
                ScopedRoutes.ScopeKeyBuilder.FragmentBuilder.newBuilder().setHeaderValueExtractor(
                    ScopedRoutes.ScopeKeyBuilder.FragmentBuilder.HeaderValueExtractor.newBuilder()
                        .setName(":authority")
                        .setElementSeparator(":")
                        .setIndex(0))))
            .setRdsConfigSource(ClusterTranslator.ADS)
            .setScopedRds(ScopedRds.newBuilder().setScopedRdsConfigSource(ClusterTranslator.ADS)))
        .addHttpFilters(ROUTER)
        .build();
    return socketListener(ResourceNames.SIDECAR_LISTENER, "127.0.0.1", port, manager);
  }

  /** An app's API listeners, one per name a gRPC client may dial it by. */
  public static List<Listener> grpc(AppKey app, List<String> meshHosts) {
    Any manager = Any.pack(httpConnectionManager(ResourceNames.grpcRoutes(app), "grpc"));
    List<Listener> listeners = new ArrayList<>(meshHosts.size());
    for (String host : meshHosts) {
      listeners.add(Listener.newBuilder()
          .setName(host)
          .setApiListener(ApiListener.newBuilder().setApiListener(manager))
          .build());
    }
    return listeners;
  }

  private static Listener socketListener(String name, String ip, int port, String routes,
      String statPrefix) {
    return socketListener(name, ip, port, httpConnectionManager(routes, statPrefix));
  }

  private static Listener socketListener(String name, String ip, int port,
      HttpConnectionManager manager) {
    return Listener.newBuilder()
        .setName(name)
        .setAddress(Address.newBuilder().setSocketAddress(
            SocketAddress.newBuilder().setAddress(ip).setPortValue(port)))
        .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder()
            .setName("envoy.filters.network.http_connection_manager")
            .setTypedConfig(Any.pack(manager))))
        .build();
  }

  static HttpConnectionManager httpConnectionManager(String routeConfigName, String statPrefix) {
    return HttpConnectionManager.newBuilder()
        .setStatPrefix(statPrefix)
        .setRds(Rds.newBuilder()
            .setConfigSource(ClusterTranslator.ADS)
            .setRouteConfigName(routeConfigName))
        .addHttpFilters(ROUTER)
        .build();
  }
}
