package dev.steelyard.translate;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks resources before they are published, collecting every error. Closure matters most: in
 * ADS mode a name a client asks for but the snapshot lacks stalls that whole resource type.
 *
 * <p>A publish checks in two halves, like translation: each app's pieces when the app is
 * translated ({@link #validate(AppResources)}, so one app's error leaves out that app alone),
 * and what only the assembled whole can get wrong ({@link #validateTogether}). Together they
 * are {@link #validate(ProxyKind, ProxyResources)}: an app's clusters, assignments, virtual
 * hosts and gRPC listeners refer only to each other.
 */
public final class ResourceValidator {

  private ResourceValidator() {}

  /** What is wrong with one app's pieces, for any proxy kind; empty when they are valid. */
  public static List<String> validate(AppResources app) {
    List<String> errors = new ArrayList<>();
    for (ProxyKind kind : ProxyKind.values()) {
      // The shared listener's port does not matter to any check.
      errors.addAll(validate(kind, MeshTranslator.assemble(List.of(app), kind,
          TranslatorSettings.DEFAULTS, ProxyScope.ALL)));
    }
    return errors;
  }

  /**
   * What pieces valid on their own can still get wrong together: a name defined by two apps,
   * a domain two virtual hosts of one route configuration share, and the shared listener's
   * route configuration. Not again what each app's check covered (closure within an app, its
   * weights, its gRPC listeners): a publish checks every app's resources, not only the changed
   * app's.
   */
  public static List<String> validateTogether(ProxyKind kind, ProxyResources resources) {
    List<String> errors = new ArrayList<>();
    String prefix = kind.label() + ": ";
    names("cluster", resources.clusters().stream().map(Cluster::getName), prefix, errors);
    names("endpoint assignment", resources.endpoints().stream()
        .map(ClusterLoadAssignment::getClusterName), prefix, errors);
    names("listener", resources.listeners().stream().map(Listener::getName), prefix, errors);
    names("scope", resources.scopedRoutes().stream().map(ScopedRouteConfiguration::getName),
        prefix, errors);
    Set<String> routeConfigs = names("route configuration",
        resources.routes().stream().map(RouteConfiguration::getName), prefix, errors);
    if (kind != ProxyKind.GRPC) {
      // A gRPC client's listeners are its apps' own; an Envoy's one listener is shared.
      routesExist(resources, routeConfigs, prefix, errors);
    }
    for (RouteConfiguration config : resources.routes()) {
      uniqueDomains(config, prefix, errors);
    }
    return errors;
  }

  /** Every check at once: what {@link #validate(AppResources)} and the together check find. */
  public static List<String> validate(ProxyKind kind, ProxyResources resources) {
    List<String> errors = new ArrayList<>();
    String prefix = kind.label() + ": ";
    // Versions and the cache index resources by name: a name must be unique within its type.
    Set<String> clusters = names("cluster", resources.clusters().stream().map(Cluster::getName),
        prefix, errors);
    Set<String> assignments = names("endpoint assignment", resources.endpoints().stream()
        .map(ClusterLoadAssignment::getClusterName), prefix, errors);
    names("listener", resources.listeners().stream().map(Listener::getName), prefix, errors);
    names("scope", resources.scopedRoutes().stream().map(ScopedRouteConfiguration::getName),
        prefix, errors);
    Set<String> routeConfigs = names("route configuration",
        resources.routes().stream().map(RouteConfiguration::getName), prefix, errors);

    for (Cluster cluster : resources.clusters()) {
      String eds = cluster.getEdsClusterConfig().getServiceName();
      if (!assignments.contains(eds)) {
        errors.add(prefix + "cluster '" + cluster.getName() + "' has no endpoint assignment '"
            + eds + "'");
      }
    }
    routesExist(resources, routeConfigs, prefix, errors);
    for (RouteConfiguration config : resources.routes()) {
      uniqueDomains(config, prefix, errors);
      for (VirtualHost host : config.getVirtualHostsList()) {
        String where = prefix + "route configuration '" + config.getName() + "' virtual host '"
            + host.getName() + "': ";
        host.getRoutesList().forEach(route -> {
          WeightedCluster weighted = route.getRoute().getWeightedClusters();
          long sum = 0;
          for (WeightedCluster.ClusterWeight weight : weighted.getClustersList()) {
            sum += weight.getWeight().getValue();
            if (!clusters.contains(weight.getName())) {
              errors.add(where + "route to unknown cluster '" + weight.getName() + "'");
            }
          }
          if (sum == 0) {
            errors.add(where + "weighted clusters sum to 0");
          }
        });
      }
    }
    return errors;
  }

  private static void routesExist(ProxyResources resources, Set<String> routeConfigs,
      String prefix, List<String> errors) {
    for (Listener listener : resources.listeners()) {
      for (HttpConnectionManager manager : managers(listener, errors, prefix)) {
        if (!manager.hasScopedRoutes()) {
          routeExists("listener '" + listener.getName() + "'",
              manager.getRds().getRouteConfigName(), routeConfigs, prefix, errors);
          continue;
        }
        // Per-app routes: every scope's route configuration exists, and no two scopes share
        // a key (Envoy rejects the update then, as it does a domain used twice).
        Set<ScopedRouteConfiguration.Key> keys = new HashSet<>();
        for (ScopedRouteConfiguration scope : resources.scopedRoutes()) {
          routeExists("scope '" + scope.getName() + "'", scope.getRouteConfigurationName(),
              routeConfigs, prefix, errors);
          if (!keys.add(scope.getKey())) {
            errors.add(prefix + "scope '" + scope.getName() + "' has the key of another scope");
          }
        }
      }
    }
  }

  private static void routeExists(String who, String routes, Set<String> routeConfigs,
      String prefix, List<String> errors) {
    if (!routeConfigs.contains(routes)) {
      errors.add(prefix + who + " names route configuration '" + routes
          + "' that does not exist");
    }
  }

  private static void uniqueDomains(RouteConfiguration config, String prefix,
      List<String> errors) {
    Set<String> domains = new HashSet<>();
    for (VirtualHost host : config.getVirtualHostsList()) {
      for (String domain : host.getDomainsList()) {
        // Envoy matches domains case-insensitively and rejects duplicates that way too.
        if (!domains.add(domain.toLowerCase(java.util.Locale.ROOT))) {
          errors.add(prefix + "route configuration '" + config.getName() + "' virtual host '"
              + host.getName() + "': domain '" + domain + "' is used twice");
        }
      }
    }
  }

  /** The names of one type's resources; a name defined twice is an error. */
  private static Set<String> names(String what, java.util.stream.Stream<String> names,
      String prefix, List<String> errors) {
    Set<String> seen = new HashSet<>();
    names.filter(name -> !seen.add(name)).distinct()
        .forEach(name -> errors.add(prefix + what + " '" + name + "' is defined twice"));
    return seen;
  }

  private static List<HttpConnectionManager> managers(Listener listener, List<String> errors,
      String prefix) {
    List<HttpConnectionManager> managers = new ArrayList<>();
    try {
      if (listener.hasApiListener()) {
        managers.add(listener.getApiListener().getApiListener()
            .unpack(HttpConnectionManager.class));
      }
      for (FilterChain chain : listener.getFilterChainsList()) {
        for (Filter filter : chain.getFiltersList()) {
          managers.add(filter.getTypedConfig().unpack(HttpConnectionManager.class));
        }
      }
    } catch (InvalidProtocolBufferException e) {
      errors.add(prefix + "listener '" + listener.getName() + "': " + e.getMessage());
    }
    return managers;
  }
}
