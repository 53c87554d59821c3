package dev.steelyard.view;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * An app as a source declares it: where its endpoints are, by role, and the hosts it answers to.
 * Lists are sorted so that equal specs produce equal resources.
 */
public record AppSpec(
    AppKey key,
    int port,
    AppProtocol protocol,
    List<String> gatewayHosts,
    Map<SubsetRole, List<Endpoint>> endpoints) {

  public AppSpec {
    gatewayHosts = List.copyOf(gatewayHosts.stream().sorted().distinct().toList());
    EnumMap<SubsetRole, List<Endpoint>> byRole = new EnumMap<>(SubsetRole.class);
    for (SubsetRole role : SubsetRole.values()) {
      List<Endpoint> sorted = new ArrayList<>(endpoints.getOrDefault(role, List.of()));
      Collections.sort(sorted);
      byRole.put(role, List.copyOf(sorted.stream().distinct().toList()));
    }
    endpoints = Collections.unmodifiableMap(byRole);
  }

  public List<Endpoint> endpoints(SubsetRole role) {
    return endpoints.get(role);
  }

  /**
   * The names mesh clients use for this app, without ports: {@code name}, {@code name.ns},
   * {@code name.ns.svc}, {@code name.ns.svc.cluster.local}.
   */
  public List<String> qualifiedMeshNames() {
    String base = key.name() + "." + key.namespace();
    return List.of(base, base + ".svc", base + ".svc.cluster.local");
  }
}
