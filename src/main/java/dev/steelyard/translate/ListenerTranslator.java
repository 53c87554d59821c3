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
    return Listener.newBuilder()
        .setName(name)
        .setAddress(Address.newBuilder().setSocketAddress(
            SocketAddress.newBuilder().setAddress(ip).setPortValue(port)))
        .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder()
            .setName("envoy.filters.network.http_connection_manager")
            .setTypedConfig(Any.pack(httpConnectionManager(routes, statPrefix)))))
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
