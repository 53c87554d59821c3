package dev.steelyard.translate;

import dev.steelyard.view.MeshView;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.List;

/**
 * The pure function at the heart of Steelyard: {@code view + proxy kind -> resources}. No I/O, no
 * clocks, no randomness: equal inputs give byte-equal outputs on any replica. It is done in two
 * halves: each app is translated on its own ({@link AppResources}, which the publisher reuses
 * while an app is unchanged: {@link TranslationCache}), then the pieces are put together per
 * kind ({@link #assemble}).
 */
public final class MeshTranslator {

  private MeshTranslator() {}

  public static ProxyResources translate(MeshView view, ProxyKind kind,
      TranslatorSettings settings) {
    return assemble(new TranslationCache().translate(view).apps(), kind, settings,
        ProxyScope.ALL);
  }

  /**
   * The resources of {@code kind} from every app's pieces, in the apps' order. A sidecar with a
   * {@code scope} gets only the apps it calls, in the layout {@code settings} names (a route
   * configuration per app, or one for all); the other kinds are never scoped (a gateway routes
   * to every app with gateway hosts, a gRPC client names the resources it wants).
   */
  public static ProxyResources assemble(List<AppResources> apps, ProxyKind kind,
      TranslatorSettings settings, ProxyScope scope) {
    List<Cluster> clusters = new ArrayList<>(apps.size() * 3);
    List<ClusterLoadAssignment> endpoints = new ArrayList<>(apps.size() * 3);
    List<VirtualHost> hosts = new ArrayList<>(apps.size());
    boolean perApp = kind == ProxyKind.SIDECAR
        && settings.sidecarRoutes() == TranslatorSettings.SidecarRoutes.PER_APP;
    List<ScopedRouteConfiguration> scopes = new ArrayList<>();
    List<Listener> listeners = new ArrayList<>();
    List<RouteConfiguration> routes = new ArrayList<>();
    for (AppResources app : apps) {
      if (kind == ProxyKind.SIDECAR && !scope.includes(app.key())) {
        continue;
      }
      clusters.addAll(app.clusters(kind));
      endpoints.addAll(app.assignments());
      switch (kind) {
        case GATEWAY -> app.gatewayHost().ifPresent(hosts::add);
        case SIDECAR -> {
          if (perApp) {
            scopes.addAll(app.sidecarScopes());
            routes.add(app.sidecarRoutes());
          } else {
            hosts.add(app.meshHost());
          }
        }
        case GRPC -> {
          listeners.addAll(app.grpcListeners());
          routes.add(app.grpcRoutes());
        }
      }
    }
    switch (kind) {
      case GATEWAY -> {
        listeners.add(ListenerTranslator.gateway(settings.gatewayPort()));
        routes.add(RouteTranslator.gateway(hosts));
      }
      case SIDECAR -> {
        if (perApp) {
          listeners.add(ListenerTranslator.sidecarPerApp(settings.sidecarPort()));
        } else {
          listeners.add(ListenerTranslator.sidecar(settings.sidecarPort()));
          routes.add(RouteTranslator.sidecar(hosts));
        }
      }
      case GRPC -> { }
    }
    return new ProxyResources(clusters, endpoints, listeners, scopes, routes);
  }
}
