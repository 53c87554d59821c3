package dev.steelyard.bench;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.steelyard.translate.ProxyResources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.ScopedRouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A sidecar's declared scope, node metadata {@code steelyard.calls}: comma-separated entries
 * {@code namespace/name} (an app) or {@code namespace/*} (a namespace). Floor and stock use it
 * to send a scoped sidecar what a scoping server would, by filtering the full sidecar resources:
 * clusters and assignments whose name ({@code namespace/name/role}) belongs to a scoped app, and
 * the route configuration rebuilt with only the virtual hosts named after a scoped app, in the
 * same order. Listeners stay as they are.
 */
final class Scope {

  /** The name prefix of an app's own route configuration (sidecars with per-app routes). */
  private static final String PER_APP_ROUTES = "sidecar/";

  static final String KEY = "steelyard.calls";

  private final Set<String> apps = new HashSet<>();
  private final Set<String> namespaces = new HashSet<>();

  private Scope(String calls) {
    for (String entry : calls.split(",")) {
      String e = entry.trim();
      if (e.endsWith("/*")) {
        namespaces.add(e.substring(0, e.length() - 2));
      } else if (!e.isEmpty()) {
        apps.add(e);
      }
    }
  }

  /** The node's {@code steelyard.calls}, or "" (no scope: everything). */
  static String calls(Node node) {
    Struct meta = node.getMetadata();
    Value v = meta.getFieldsMap().get(KEY);
    return v == null ? "" : v.getStringValue();
  }

  static ProxyResources filter(ProxyResources all, String calls) {
    return calls.isEmpty() ? all : new Scope(calls).filter(all);
  }

  /** Whether app {@code namespace/name} is in the scope. */
  boolean includes(String app) {
    if (apps.contains(app)) {
      return true;
    }
    int slash = app.indexOf('/');
    return slash > 0 && namespaces.contains(app.substring(0, slash));
  }

  static boolean includes(String calls, String app) {
    return calls.isEmpty() || new Scope(calls).includes(app);
  }

  /** {@code namespace/name} of a cluster or assignment named {@code namespace/name/role}. */
  private static String appOf(String clusterName) {
    int last = clusterName.lastIndexOf('/');
    return last < 0 ? clusterName : clusterName.substring(0, last);
  }

  ProxyResources filter(ProxyResources all) {
    List<Cluster> clusters = new ArrayList<>();
    for (Cluster c : all.clusters()) {
      if (includes(appOf(c.getName()))) {
        clusters.add(c);
      }
    }
    List<ClusterLoadAssignment> endpoints = new ArrayList<>();
    for (ClusterLoadAssignment a : all.endpoints()) {
      if (includes(appOf(a.getClusterName()))) {
        endpoints.add(a);
      }
    }
    List<RouteConfiguration> routes = new ArrayList<>();
    for (RouteConfiguration rc : all.routes()) {
      if (rc.getName().startsWith(PER_APP_ROUTES)) {
        // Per-app routes: an app's own configuration, kept or left out whole.
        if (includes(rc.getName().substring(PER_APP_ROUTES.length()))) {
          routes.add(rc);
        }
        continue;
      }
      RouteConfiguration.Builder b = rc.toBuilder().clearVirtualHosts();
      for (VirtualHost vh : rc.getVirtualHostsList()) {
        if (includes(vh.getName())) {
          b.addVirtualHosts(vh);
        }
      }
      routes.add(b.build());
    }
    List<ScopedRouteConfiguration> scopes = new ArrayList<>();
    for (ScopedRouteConfiguration scope : all.scopedRoutes()) {
      if (includes(scope.getRouteConfigurationName().substring(PER_APP_ROUTES.length()))) {
        scopes.add(scope);
      }
    }
    return new ProxyResources(clusters, endpoints, all.listeners(), scopes, routes);
  }
}
