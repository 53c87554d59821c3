package dev.steelyard.translate;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
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
 */
public final class ResourceValidator {

  private ResourceValidator() {}

  public static List<String> validate(ProxyKind kind, ProxyResources resources) {
    List<String> errors = new ArrayList<>();
    String prefix = kind.label() + ": ";
    // Versions and the cache index resources by name: a name must be unique within its type.
    Set<String> clusters = names("cluster", resources.clusters().stream().map(Cluster::getName),
        prefix, errors);
    Set<String> assignments = names("endpoint assignment", resources.endpoints().stream()
        .map(ClusterLoadAssignment::getClusterName), prefix, errors);
    names("listener", resources.listeners().stream().map(Listener::getName), prefix, errors);
    Set<String> routeConfigs = names("route configuration",
        resources.routes().stream().map(RouteConfiguration::getName), prefix, errors);

    for (Cluster cluster : resources.clusters()) {
      String eds = cluster.getEdsClusterConfig().getServiceName();
      if (!assignments.contains(eds)) {
        errors.add(prefix + "cluster '" + cluster.getName() + "' has no endpoint assignment '"
            + eds + "'");
      }
    }
    for (Listener listener : resources.listeners()) {
      for (HttpConnectionManager manager : managers(listener, errors, prefix)) {
        String routes = manager.getRds().getRouteConfigName();
        if (!routeConfigs.contains(routes)) {
          errors.add(prefix + "listener '" + listener.getName() + "' names route configuration '"
              + routes + "' that does not exist");
        }
      }
    }
    for (RouteConfiguration config : resources.routes()) {
      Set<String> domains = new HashSet<>();
      for (VirtualHost host : config.getVirtualHostsList()) {
        String where = prefix + "route configuration '" + config.getName() + "' virtual host '"
            + host.getName() + "': ";
        for (String domain : host.getDomainsList()) {
          // Envoy matches domains case-insensitively and rejects duplicates that way too.
          if (!domains.add(domain.toLowerCase(java.util.Locale.ROOT))) {
            errors.add(where + "domain '" + domain + "' is used twice");
          }
        }
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
