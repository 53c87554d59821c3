package dev.steelyard.publish;

import com.google.protobuf.Message;
import dev.steelyard.translate.ProxyResources;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The order in which one proxy kind moves from what it is served to what it should be served,
 * so that no request fails on the way. A state-of-the-world push is several responses that a
 * proxy applies one by one (Envoy: clusters, endpoints, listeners, routes, each as it arrives),
 * and two changes would otherwise fail requests in between:
 * <ul>
 *   <li>a route naming a cluster whose endpoints have not arrived answers 503 (a new app, a
 *       subset that gets its first endpoint while it has a share);
 *   <li>an assignment emptied before the route moved the subset's share to main answers 503
 *       "no healthy upstream" (a subset losing its last endpoint).
 * </ul>
 * So a change goes out in up to three stages, each applied (ACKed) before the next is sent:
 * <ol>
 *   <li><b>make</b>: new clusters and new endpoints, with the old routes and listeners; a
 *       subset that is being emptied keeps its old endpoints;
 *   <li><b>switch</b>: the new listeners and routes, over the clusters and endpoints of make;
 *   <li><b>break</b>: exactly the target: clusters no route names any more go, and emptied
 *       subsets are emptied.
 * </ol>
 * A stage equal to the one before it is left out: a weight change is one stage, and so is an
 * endpoint change that leaves every subset with endpoints.
 */
public final class MakeBeforeBreak {

  private MakeBeforeBreak() {}

  /** The stages from {@code served} to {@code target}; the last one is always the target. */
  public static List<ProxyResources> stages(ProxyResources served, ProxyResources target) {
    List<Cluster> clusters = union(served.clusters(), target.clusters());
    List<ClusterLoadAssignment> endpoints = keepUntilEmptied(served.endpoints(),
        target.endpoints());
    ProxyResources make = new ProxyResources(clusters, endpoints, served.listeners(),
        served.scopedRoutes(), served.routes());
    ProxyResources change = new ProxyResources(clusters, endpoints, target.listeners(),
        target.scopedRoutes(), target.routes());
    List<ProxyResources> stages = new ArrayList<>();
    ProxyResources last = served;
    for (ProxyResources stage : List.of(make, change, target)) {
      if (!stage.equals(last)) {
        stages.add(stage);
        last = stage;
      }
    }
    if (stages.isEmpty()) {
      stages.add(target);
    }
    return stages;
  }

  /** Every resource of {@code target}, and those of {@code served} it does not name. */
  private static <M extends Message> List<M> union(List<M> served, List<M> target) {
    if (sameInOrder(served, target)) {
      // A weight change: translation kept every cluster's instance.
      return target;
    }
    Map<String, M> byName = new LinkedHashMap<>();
    for (M resource : target) {
      byName.put(Resources.getResourceName(resource), resource);
    }
    for (M resource : served) {
      byName.putIfAbsent(Resources.getResourceName(resource), resource);
    }
    return List.copyOf(byName.values());
  }

  /**
   * The target's assignments, except where the target empties (or drops) one that has endpoints
   * now: that one keeps its endpoints until the routes no longer send it traffic.
   */
  private static List<ClusterLoadAssignment> keepUntilEmptied(
      List<ClusterLoadAssignment> served, List<ClusterLoadAssignment> target) {
    if (sameInOrder(served, target)) {
      return target;
    }
    Map<String, ClusterLoadAssignment> now = new LinkedHashMap<>();
    for (ClusterLoadAssignment assignment : served) {
      now.put(assignment.getClusterName(), assignment);
    }
    Map<String, ClusterLoadAssignment> byName = new LinkedHashMap<>();
    for (ClusterLoadAssignment assignment : target) {
      ClusterLoadAssignment before = now.get(assignment.getClusterName());
      boolean emptied = assignment.getEndpointsCount() == 0 && before != null
          && before.getEndpointsCount() > 0;
      byName.put(assignment.getClusterName(), emptied ? before : assignment);
    }
    for (ClusterLoadAssignment assignment : served) {
      byName.putIfAbsent(assignment.getClusterName(), assignment);
    }
    return List.copyOf(byName.values());
  }

  /** Whether the two lists hold the same instances in the same order. */
  private static boolean sameInOrder(List<?> a, List<?> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (a.get(i) != b.get(i)) {
        return false;
      }
    }
    return true;
  }
}
