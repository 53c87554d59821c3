package dev.steelyard.rollout;

import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;

/**
 * Changes and reads an app's workloads for the rollout engine, one contract for Kubernetes
 * Deployments, the file-mode hook and the demo. Called from the engine's one thread.
 * {@link #apply} must be idempotent (the engine applies a flow's targets again after a restart)
 * and should return quickly; readiness is read back with {@link #status}.
 */
public interface WorkloadDriver extends AutoCloseable {

  /** Main's version and replica count now (R at a flow's start). 409 if there is no main. */
  FlowMachine.MainWorkload main(AppKey app) throws FlowException;

  /** Makes {@code role} of {@code app} run {@code target} (0 replicas: remove it). */
  void apply(Flow flow, SubsetRole role, RoleTarget target) throws Exception;

  /** What runs for {@code role} now. */
  RoleStatus status(AppKey app, SubsetRole role);

  /** What the driver is, for status output ("demo backends", "workload hook ./scale.sh"). */
  String describe();

  @Override
  default void close() {}
}
