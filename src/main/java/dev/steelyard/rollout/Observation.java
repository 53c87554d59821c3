package dev.steelyard.rollout;

import dev.steelyard.view.SubsetRole;
import java.util.List;
import java.util.Map;

/**
 * What the engine saw on one tick: each role's workload (from the driver), whether the proxies
 * are serving the flow's split (published, and ACKed by every connected proxy), which proxies
 * lag, and the ACK counts per proxy kind ("grpc 2/2").
 */
public record Observation(Map<SubsetRole, RoleStatus> roles, boolean splitApplied,
    List<String> lagging, String acks) {

  public Observation {
    roles = Map.copyOf(roles);
    lagging = List.copyOf(lagging);
  }

  public RoleStatus role(SubsetRole role) {
    return roles.getOrDefault(role, RoleStatus.ABSENT);
  }
}
