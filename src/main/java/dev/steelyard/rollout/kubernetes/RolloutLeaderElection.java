package dev.steelyard.rollout.kubernetes;

import dev.steelyard.rollout.RolloutEngine;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exactly one replica drives rollout flows: fabric8's leader election on a Lease. The others
 * serve xDS and reads; their engines refuse commands until they are elected, and then read the
 * flows again from the shared store. Releasing on close hands over without waiting for the
 * lease to run out.
 */
public final class RolloutLeaderElection implements AutoCloseable {

  public static final String LEASE_NAME = "steelyard-rollouts";
  private static final Logger log = LoggerFactory.getLogger(RolloutLeaderElection.class);

  private final CompletableFuture<?> running;

  private RolloutLeaderElection(CompletableFuture<?> running) {
    this.running = running;
  }

  /** Joins the election in {@code namespace} as {@code identity}; {@code lease} is its length. */
  public static RolloutLeaderElection start(KubernetesClient client, String namespace,
      String identity, RolloutEngine engine, Duration lease) {
    var config = new LeaderElectionConfigBuilder()
        .withName(LEASE_NAME)
        .withLock(new LeaseLock(namespace, LEASE_NAME, identity))
        .withLeaseDuration(lease)
        .withRenewDeadline(lease.multipliedBy(2).dividedBy(3))
        .withRetryPeriod(lease.dividedBy(5))
        .withReleaseOnCancel(true)
        .withLeaderCallbacks(new LeaderCallbacks(
            () -> engine.setLeading(true),
            () -> engine.setLeading(false),
            leader -> {
              log.info("rollout flows are driven by {}", leader);
              engine.setLeader(leader);
            }))
        .build();
    return new RolloutLeaderElection(client.leaderElector().withConfig(config).build().start());
  }

  @Override
  public void close() {
    running.cancel(true);
  }
}
