package dev.steelyard.server;

import dev.steelyard.source.kubernetes.KubernetesAppCatalog;
import dev.steelyard.source.kubernetes.KubernetesSourceSettings;
import dev.steelyard.split.kubernetes.TrafficSplitStore;
import dev.steelyard.status.TrafficSplitStatusWriter;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.IOException;
import java.time.Duration;

/**
 * A Steelyard server in Kubernetes mode: apps from pod and Service informers, splits in
 * TrafficSplit resources, and one status writer reporting what was applied. The client belongs to
 * the caller and stays open after {@link #close}.
 */
public final class KubernetesControlPlane implements AutoCloseable {

  private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STATUS_REFRESH = Duration.ofSeconds(5);

  private final TrafficSplitStore splits;
  private final SteelyardServer server;
  private final TrafficSplitStatusWriter statusWriter;

  private KubernetesControlPlane(TrafficSplitStore splits, SteelyardServer server,
      TrafficSplitStatusWriter statusWriter) {
    this.splits = splits;
    this.server = server;
    this.statusWriter = statusWriter;
  }

  /**
   * Fails within about {@code timeout} if no API server answers, with one line that says so:
   * informers would otherwise retry for the whole sync timeout and log a stack trace per try.
   * Asks once, with its own short timeouts and no retries, so the real client keeps its own.
   */
  public static void checkReachable(KubernetesClient client, Duration timeout)
      throws IOException {
    Config quick = new ConfigBuilder(client.getConfiguration())
        .withConnectionTimeout((int) timeout.toMillis())
        .withRequestTimeout((int) timeout.toMillis())
        .withRequestRetryBackoffLimit(0)
        .build();
    try (KubernetesClient probe = new KubernetesClientBuilder().withConfig(quick).build()) {
      probe.getKubernetesVersion();
    } catch (KubernetesClientException e) {
      Throwable cause = e;
      while (cause.getCause() != null) {
        cause = cause.getCause();
      }
      String reason = cause == e ? e.getMessage()
          : cause.getClass().getSimpleName() + ": " + cause.getMessage();
      throw new IOException("no Kubernetes API server reachable at " + quick.getMasterUrl()
          + " (" + reason + "); set KUBECONFIG or run in a cluster", e);
    }
  }

  /** {@code replicaId} names this replica in TrafficSplit status (the pod name in a cluster). */
  public static KubernetesControlPlane start(KubernetesClient client, ServerConfig config,
      KubernetesSourceSettings settings, String replicaId) throws Exception {
    return start(client, config, settings, replicaId, java.util.Optional.empty());
  }

  /** As above; with {@code workloads}, the server runs rollout flows on them. */
  public static KubernetesControlPlane start(KubernetesClient client, ServerConfig config,
      KubernetesSourceSettings settings, String replicaId,
      java.util.Optional<dev.steelyard.rollout.WorkloadDriver> workloads) throws Exception {
    KubernetesAppCatalog catalog = KubernetesAppCatalog.start(client, settings, SYNC_TIMEOUT);
    TrafficSplitStore splits;
    try {
      splits = TrafficSplitStore.start(client, settings.namespaces(), SYNC_TIMEOUT);
    } catch (Exception e) {
      catalog.close();
      throw e;
    }
    SteelyardServer server;
    try {
      // On failure the server closes what it started, the catalog included.
      SteelyardServer unstarted = new SteelyardServer(config, catalog, splits);
      // Flows live in the cluster as the splits do: an elected replica needs no shared volume.
      workloads.ifPresent(driver -> unstarted.withWorkloads(driver).withElectedRollouts()
          .withFlowStore(new dev.steelyard.rollout.kubernetes.CanaryRolloutFlowStore(client,
              settings.namespaces())));
      server = unstarted.start();
    } catch (Exception e) {
      splits.close();
      throw e;
    }
    TrafficSplitStatusWriter writer = new TrafficSplitStatusWriter(splits, server.publisher(),
        server.proxies(), replicaId, STATUS_REFRESH).start();
    writer.registerLoops(server.loops());
    return new KubernetesControlPlane(splits, server, writer);
  }

  public SteelyardServer server() {
    return server;
  }

  public TrafficSplitStore splits() {
    return splits;
  }

  /** Asks for a status round now instead of at the next refresh. */
  public void refreshStatus() {
    statusWriter.requestWrite();
  }

  @Override
  public void close() {
    statusWriter.close();
    server.close();
    splits.close();
  }
}
