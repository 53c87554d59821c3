package dev.steelyard.load;

import com.google.protobuf.util.Durations;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppView;
import dev.steelyard.view.MeshView;
import dev.steelyard.view.SubsetRole;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterStats;
import io.envoyproxy.envoy.config.endpoint.v3.UpstreamLocalityStats;
import io.envoyproxy.envoy.service.load_stats.v3.LoadReportingServiceGrpc;
import io.envoyproxy.envoy.service.load_stats.v3.LoadStatsRequest;
import io.envoyproxy.envoy.service.load_stats.v3.LoadStatsResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The Load Reporting Service (LRS) on the xDS port: every proxy that opens a stream is asked
 * for all its clusters every {@code interval} ({@code send_all_clusters}), and each report's
 * counts of a Steelyard subset cluster ({@code namespace/name/role}) go to the {@link
 * LoadStore}. grpc-java's xDS client reports for clusters with {@code lrs_server: self};
 * Envoy reports when its bootstrap has {@code cluster_manager.load_stats_config}.
 *
 * <p>Clusters with nothing to report are skipped (Envoy sends every cluster it has, mostly
 * zeros); a report with more than {@link #MAX_CLUSTERS} clusters ends the stream.
 */
public final class LoadReportingService
    extends LoadReportingServiceGrpc.LoadReportingServiceImplBase {

  static final int MAX_CLUSTERS = 50_000;
  private static final int MAX_NODE_ID = 1024;

  private final LoadStore store;
  private final Duration interval;
  private final Supplier<MeshView> view;
  /**
   * The app keys of the last view seen: a report names thousands of clusters, the view's own
   * lookup is a scan, and this runs on the xDS port's event loop.
   */
  private volatile Published published = new Published(null, Set.of());

  private record Published(MeshView view, Set<AppKey> apps) {}

  /** {@code view} is what Steelyard serves now; reports for other apps are dropped. */
  public LoadReportingService(LoadStore store, Duration interval, Supplier<MeshView> view) {
    this.store = store;
    this.interval = interval;
    this.view = view;
  }

  private boolean isPublished(AppKey app) {
    MeshView now = view.get();
    Published seen = published;
    if (seen.view() != now) {
      seen = new Published(now, now.apps().stream().map(AppView::key)
          .collect(Collectors.toUnmodifiableSet()));
      published = seen;
    }
    return seen.apps().contains(app);
  }

  @Override
  public StreamObserver<LoadStatsRequest> streamLoadStats(
      StreamObserver<LoadStatsResponse> responses) {
    return new StreamObserver<>() {
      private String node;

      @Override
      public void onNext(LoadStatsRequest request) {
        if (node == null) {
          String id = request.getNode().getId();
          node = id.length() > MAX_NODE_ID ? id.substring(0, MAX_NODE_ID) : id;
          responses.onNext(LoadStatsResponse.newBuilder()
              .setSendAllClusters(true)
              .setLoadReportingInterval(Durations.fromMillis(interval.toMillis()))
              .build());
        }
        if (request.getClusterStatsCount() > MAX_CLUSTERS) {
          responses.onError(Status.INVALID_ARGUMENT.withDescription("a load report may name at "
              + "most " + MAX_CLUSTERS + " clusters").asRuntimeException());
          return;
        }
        for (ClusterStats cluster : request.getClusterStatsList()) {
          record(cluster);
        }
      }

      private void record(ClusterStats cluster) {
        long issued = 0;
        long succeeded = 0;
        long errors = 0;
        long inProgress = 0;
        for (UpstreamLocalityStats locality : cluster.getUpstreamLocalityStatsList()) {
          issued += locality.getTotalIssuedRequests();
          succeeded += locality.getTotalSuccessfulRequests();
          errors += locality.getTotalErrorRequests();
          inProgress += locality.getTotalRequestsInProgress();
        }
        if (issued == 0 && succeeded == 0 && errors == 0 && inProgress == 0) {
          return;
        }
        Optional<Subset> subset = Subset.of(cluster.getClusterName());
        if (subset.isEmpty() || !isPublished(subset.get().app())) {
          store.droppedReport();
          return;
        }
        store.add(node, subset.get().app(), subset.get().role(), issued, succeeded, errors,
            inProgress);
      }

      @Override
      public void onError(Throwable t) {
        // The proxy went away; its reports so far are kept.
      }

      @Override
      public void onCompleted() {
        responses.onCompleted();
      }
    };
  }

  /** An app's role named by its subset cluster, {@code namespace/name/role}. */
  record Subset(AppKey app, SubsetRole role) {

    static Optional<Subset> of(String cluster) {
      int slash = cluster.lastIndexOf('/');
      if (slash <= 0) {
        return Optional.empty();
      }
      try {
        return Optional.of(new Subset(AppKey.parse(cluster.substring(0, slash)),
            SubsetRole.fromLabel(cluster.substring(slash + 1))));
      } catch (IllegalArgumentException e) {
        return Optional.empty();
      }
    }
  }
}
