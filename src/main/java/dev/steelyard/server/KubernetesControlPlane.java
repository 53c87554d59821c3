package dev.steelyard.server;

import dev.steelyard.source.kubernetes.KubernetesAppCatalog;
import dev.steelyard.source.kubernetes.KubernetesSourceSettings;
import dev.steelyard.split.kubernetes.TrafficSplitStatusWriter;
import dev.steelyard.split.kubernetes.TrafficSplitStore;
import io.fabric8.kubernetes.client.KubernetesClient;
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

  /** {@code replicaId} names this replica in TrafficSplit status (the pod name in a cluster). */
  public static KubernetesControlPlane start(KubernetesClient client, ServerConfig config,
      KubernetesSourceSettings settings, String replicaId) throws Exception {
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
      server = new SteelyardServer(config, catalog, splits).start();
    } catch (Exception e) {
      splits.close();
      throw e;
    }
    TrafficSplitStatusWriter writer = new TrafficSplitStatusWriter(splits, server.publisher(),
        server.proxies(), replicaId, STATUS_REFRESH).start();
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
