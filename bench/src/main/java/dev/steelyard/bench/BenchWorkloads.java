package dev.steelyard.bench;

import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.FlowMachine;
import dev.steelyard.rollout.RoleStatus;
import dev.steelyard.rollout.RoleTarget;
import dev.steelyard.rollout.WorkloadDriver;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The rollback scenario's workloads: every role is at once where a flow asks it to be (the
 * version and replicas it was given, all ready), without touching the catalog's endpoints. A
 * flow then moves on its proxies' ACKs alone, which is what the benchmark measures, and a test
 * that ends (canary to 0) finishes instead of waiting for pods that never leave the catalog.
 */
final class BenchWorkloads implements WorkloadDriver {

  private final int replicas;
  private final Map<String, RoleTarget> targets = new ConcurrentHashMap<>();

  BenchWorkloads(int replicas) {
    this.replicas = replicas;
  }

  @Override
  public FlowMachine.MainWorkload main(AppKey app) {
    return new FlowMachine.MainWorkload("", replicas);
  }

  @Override
  public void apply(Flow flow, SubsetRole role, RoleTarget target) {
    targets.put(flow.app() + " " + role.label(), target);
  }

  @Override
  public RoleStatus status(AppKey app, SubsetRole role) {
    RoleTarget t = targets.get(app + " " + role.label());
    int n = t == null ? replicas : t.replicas();
    return new RoleStatus("", n, n);
  }

  @Override
  public String describe() {
    return "benchmark workloads (every role ready as asked at once)";
  }
}
