package dev.steelyard.translate;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppView;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.List;

/**
 * One EDS cluster per app and role, always all three, so that a weight change never adds or
 * removes clusters and touches routes only. A role without endpoints gets an empty assignment.
 */
public final class ClusterTranslator {

  static final ConfigSource ADS = ConfigSource.newBuilder()
      .setAds(AggregatedConfigSource.getDefaultInstance())
      .setResourceApiVersion(ApiVersion.V3)
      .build();
  /** The management server that sent the cluster: the load reports' destination. */
  static final ConfigSource SELF = ConfigSource.newBuilder()
      .setSelf(io.envoyproxy.envoy.config.core.v3.SelfConfigSource.getDefaultInstance())
      .build();
  private static final String HTTP_PROTOCOL_OPTIONS =
      "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

  private ClusterTranslator() {}

  static Cluster cluster(AppView app, SubsetRole role, ProxyKind kind) {
    String name = ResourceNames.cluster(app.key(), role);
    Cluster.Builder cluster = Cluster.newBuilder()
        .setName(name)
        .setType(Cluster.DiscoveryType.EDS)
        .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder()
            .setEdsConfig(ADS)
            .setServiceName(name))
        .setConnectTimeout(Duration.newBuilder().setSeconds(1))
        .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
    // grpc-java reports load per cluster only where lrs_server is set, and only to itself;
    // Envoy reports from its bootstrap's load_stats_config instead.
    if (kind == ProxyKind.GRPC) {
      cluster.setLrsServer(SELF);
    }
    // Proxyless clients speak gRPC already; Envoy must be told to use HTTP/2 upstream.
    if (kind != ProxyKind.GRPC && app.spec().protocol() == AppProtocol.GRPC) {
      cluster.putTypedExtensionProtocolOptions(HTTP_PROTOCOL_OPTIONS, Any.pack(
          HttpProtocolOptions.newBuilder()
              .setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
                  .setHttp2ProtocolOptions(Http2ProtocolOptions.getDefaultInstance()))
              .build()));
    }
    return cluster.build();
  }

  /**
   * gRPC drops a locality without {@code locality} set or with weight 0, so both are always set;
   * an empty subset has no locality at all.
   */
  static ClusterLoadAssignment assignment(String clusterName, List<Endpoint> endpoints) {
    ClusterLoadAssignment.Builder assignment =
        ClusterLoadAssignment.newBuilder().setClusterName(clusterName);
    if (!endpoints.isEmpty()) {
      LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder()
          .setLocality(Locality.newBuilder().setZone("default"))
          .setLoadBalancingWeight(com.google.protobuf.UInt32Value.of(1))
          .setPriority(0);
      for (Endpoint endpoint : endpoints) {
        locality.addLbEndpoints(LbEndpoint.newBuilder()
            .setHealthStatus(HealthStatus.HEALTHY)
            .setEndpoint(io.envoyproxy.envoy.config.endpoint.v3.Endpoint.newBuilder()
                .setAddress(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
                    .setAddress(endpoint.ip())
                    .setPortValue(endpoint.port())))));
      }
      assignment.addEndpoints(locality);
    }
    return assignment.build();
  }
}
