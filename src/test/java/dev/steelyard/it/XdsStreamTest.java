package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.controlplane.cache.Resources;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.xds.XdsType;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stream-level behaviour that java-control-plane alone gets wrong or leaves open. */
class XdsStreamTest {

  @Test
  void aGatewaySendingItsNodeOnlyOnceStillGetsGatewayResources(@TempDir Path dir)
      throws Exception {
    try (TestMesh mesh = new TestMesh(dir, new int[] {1, 0, 0}, Optional.empty());
        RawAdsStream stream = new RawAdsStream(mesh.server.xdsPort(), "gw", "gateway")) {
      stream.nodeOnFirstRequestOnly = true;
      stream.request(Resources.V3.CLUSTER_TYPE_URL, List.of());
      DiscoveryResponse clusters = stream.next(5);
      assertThat(clusters).isNotNull();
      stream.ack(clusters, List.of());
      stream.request(Resources.V3.LISTENER_TYPE_URL, List.of());
      DiscoveryResponse listeners = stream.next(5);
      assertThat(listeners).isNotNull();
      assertThat(listeners.getResources(0).unpack(Listener.class).getName())
          .isEqualTo("steelyard_gateway");
    }
  }

  @Test
  void aMissingNameDoesNotHoldBackTheNamesThatExist(@TempDir Path dir) throws Exception {
    try (TestMesh mesh = new TestMesh(dir, new int[] {1, 0, 1}, Optional.empty());
        RawAdsStream stream = new RawAdsStream(mesh.server.xdsPort(), "grpc-1", "grpc")) {
      // As a gRPC client with one good target and one deleted or mistyped one.
      List<String> routes = List.of("grpc/default/hello-app", "grpc/default/gone");
      stream.request(Resources.V3.ROUTE_TYPE_URL, routes);
      DiscoveryResponse first = stream.next(5);
      assertThat(first).as("response withheld because one name is missing").isNotNull();
      assertThat(first.getResourcesList()).hasSize(1);
      stream.ack(first, routes);
      assertThat(stream.next(1)).isNull();

      assertThat(mesh.putSplit("{\"mode\":\"test\",\"canaryWeight\":10}").statusCode())
          .isEqualTo(200);
      DiscoveryResponse second = stream.next(5);
      assertThat(second).isNotNull();
      assertThat(second.getResources(0).unpack(RouteConfiguration.class).getVirtualHosts(0)
          .getRoutes(0).getRoute().getWeightedClusters().getClustersCount()).isEqualTo(2);
    }
  }

  @Test
  void aDeltaStreamIsClosedWithUnimplemented(@TempDir Path dir) throws Exception {
    try (TestMesh mesh = new TestMesh(dir, new int[] {1, 0, 0}, Optional.empty())) {
      ManagedChannel channel = ManagedChannelBuilder
          .forAddress("127.0.0.1", mesh.server.xdsPort()).usePlaintext().build();
      try {
        CompletableFuture<Throwable> closed = new CompletableFuture<>();
        StreamObserver<DeltaDiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc
            .newStub(channel).deltaAggregatedResources(new StreamObserver<>() {
              @Override
              public void onNext(DeltaDiscoveryResponse response) {
                closed.completeExceptionally(new AssertionError("got a delta response"));
              }

              @Override
              public void onError(Throwable t) {
                closed.complete(t);
              }

              @Override
              public void onCompleted() {
                closed.completeExceptionally(new AssertionError("closed without error"));
              }
            });
        requests.onNext(DeltaDiscoveryRequest.newBuilder()
            .setNode(Node.newBuilder().setId("delta-envoy"))
            .setTypeUrl(Resources.V3.CLUSTER_TYPE_URL)
            .build());
        Throwable error = closed.get(5, TimeUnit.SECONDS);
        assertThat(Status.fromThrowable(error).getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
        assertThat(error).hasMessageContaining("state-of-the-world xDS only");
      } finally {
        channel.shutdownNow();
      }
    }
  }

  private static String twoApps(String appAMainIp, String appBProtocol) {
    return """
        apps:
          - name: app-a
            namespace: default
            port: 8080
            protocol: grpc
            endpoints:
              main: ["%s:8080"]
          - name: app-b
            namespace: default
            port: 8080
            protocol: %s
            endpoints:
              main: ["10.0.1.1:8080"]
        """.formatted(appAMainIp, appBProtocol);
  }

  @Test
  void anEndpointChangeSendsOnlyTheChangedAssignmentUntilClustersChange(@TempDir Path dir)
      throws Exception {
    try (TestMesh mesh = new TestMesh(dir, new int[] {1, 0, 0}, Optional.empty());
        RawAdsStream envoy = new RawAdsStream(mesh.server.xdsPort(), "envoy-1", "sidecar")) {
      Files.writeString(mesh.appsFile, twoApps("10.0.0.1", "grpc"));
      await().atMost(Duration.ofSeconds(5)).until(() ->
          mesh.server.publisher().current().view().apps().size() == 2);

      envoy.request(Resources.V3.CLUSTER_TYPE_URL, List.of());
      DiscoveryResponse clusters = envoy.next(5);
      envoy.ack(clusters, List.of());
      List<String> names = new ArrayList<>();
      for (var any : clusters.getResourcesList()) {
        names.add(any.unpack(Cluster.class).getEdsClusterConfig().getServiceName());
      }
      assertThat(names).hasSize(6);
      envoy.request(Resources.V3.ENDPOINT_TYPE_URL, names);
      DiscoveryResponse all = envoy.next(5);
      assertThat(all.getResourcesCount()).as("a new stream gets every assignment").isEqualTo(6);
      envoy.ack(all, names);
      assertThat(envoy.next(1)).isNull();

      // One pod of app-a moves: only its assignment is sent, and the ACK settles the stream.
      Files.writeString(mesh.appsFile, twoApps("10.0.0.9", "grpc"));
      DiscoveryResponse moved = envoy.next(5);
      assertThat(moved.getTypeUrl()).isEqualTo(Resources.V3.ENDPOINT_TYPE_URL);
      assertThat(moved.getResourcesCount()).isEqualTo(1);
      ClusterLoadAssignment assignment = moved.getResources(0).unpack(ClusterLoadAssignment.class);
      assertThat(assignment.getClusterName()).isEqualTo("default/app-a/main");
      assertThat(assignment.getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress()
          .getSocketAddress().getAddress()).isEqualTo("10.0.0.9");
      // Its version covers all six names (the state the proxy now holds); the publisher
      // records its state only after every kind's snapshot is set, hence the wait.
      await().atMost(Duration.ofSeconds(5)).until(() -> moved.getVersionInfo().equals(
          mesh.server.publisher().current().version(ProxyKind.SIDECAR, XdsType.ENDPOINTS, names)));
      envoy.ack(moved, names);
      assertThat(envoy.next(1)).as("no response to the ACK of a partial response").isNull();

      // The same proxy on a new stream, with the version it holds, is sent every assignment.
      try (RawAdsStream reconnected = new RawAdsStream(mesh.server.xdsPort(), "envoy-1",
          "sidecar")) {
        reconnected.send(DiscoveryRequest.newBuilder()
            .setTypeUrl(Resources.V3.ENDPOINT_TYPE_URL)
            .addAllResourceNames(names)
            .setVersionInfo(moved.getVersionInfo()));
        DiscoveryResponse again = reconnected.next(5);
        assertThat(again).as("a reconnecting proxy is sent its assignments").isNotNull();
        assertThat(again.getResourcesCount()).isEqualTo(6);
      }

      // A NACKed partial response: a client may keep part of what it rejected, so after the
      // hold-back the next response is whole.
      Files.writeString(mesh.appsFile, twoApps("10.0.0.7", "grpc"));
      DiscoveryResponse rejected = envoy.next(5);
      assertThat(rejected.getResourcesCount()).isEqualTo(1);
      envoy.nack(rejected, names, moved.getVersionInfo(), "test: rejected on purpose");
      assertThat(envoy.next(1)).as("the rejected version is not sent again").isNull();
      Files.writeString(mesh.appsFile, twoApps("10.0.0.8", "grpc"));
      DiscoveryResponse afterNack = envoy.next(5);
      assertThat(afterNack.getResourcesCount()).isEqualTo(6);
      envoy.ack(afterNack, names);
      assertThat(envoy.next(1)).isNull();

      // app-b's clusters change (Envoy recreates them): the next EDS request gets everything,
      // as a recreated cluster needs its assignment again.
      Files.writeString(mesh.appsFile, twoApps("10.0.0.8", "http"));
      DiscoveryResponse changedClusters = envoy.next(5);
      assertThat(changedClusters.getTypeUrl()).isEqualTo(Resources.V3.CLUSTER_TYPE_URL);
      envoy.ack(changedClusters, List.of());
      envoy.ack(afterNack, names);
      DiscoveryResponse afterClusters = envoy.next(5);
      assertThat(afterClusters).isNotNull();
      assertThat(afterClusters.getResourcesCount()).isEqualTo(6);
      envoy.ack(afterClusters, names);
      assertThat(envoy.next(1)).isNull();
    }
  }

  @Test
  void aDeletedAppFreezesNothingAndANewAppReachesClientsThatNamedIt(@TempDir Path dir)
      throws Exception {
    try (TestMesh mesh = new TestMesh(dir, new int[] {1, 0, 0}, Optional.empty());
        RawAdsStream grpc = new RawAdsStream(mesh.server.xdsPort(), "grpc-2", "grpc")) {
      // app-a has a canary, so a weight step changes its routes.
      String withB = twoApps("10.0.0.1", "grpc").replace("main: [\"10.0.0.1:8080\"]",
          "main: [\"10.0.0.1:8080\"]\n      canary: [\"10.0.0.2:8080\"]");
      Files.writeString(mesh.appsFile, withB);
      await().atMost(Duration.ofSeconds(5)).until(() ->
          mesh.server.publisher().current().view().apps().size() == 2);
      List<String> routes = List.of("grpc/default/app-a", "grpc/default/app-b");
      grpc.request(Resources.V3.ROUTE_TYPE_URL, routes);
      DiscoveryResponse both = grpc.next(5);
      assertThat(both.getResourcesCount()).isEqualTo(2);
      grpc.ack(both, routes);

      // app-b leaves: the client hears of it, and app-a's next weight step still reaches it.
      Files.writeString(mesh.appsFile, withB.replaceAll("(?s)  - name: app-b.*", ""));
      DiscoveryResponse withoutB = grpc.next(5);
      assertThat(withoutB).as("a response once app-b is gone").isNotNull();
      assertThat(withoutB.getResourcesCount())
          .as("app-a's routes, which the client holds, are not sent again").isZero();
      grpc.ack(withoutB, routes);
      assertThat(mesh.put("/api/v1/apps/default/app-a/split",
          "{\"mode\":\"test\",\"canaryWeight\":10}", Optional.empty()).statusCode())
          .isEqualTo(200);
      DiscoveryResponse weighted = grpc.next(5);
      assertThat(weighted).as("app-a's weight step while app-b is missing").isNotNull();
      RouteConfiguration routesOfA = weighted.getResources(0).unpack(RouteConfiguration.class);
      assertThat(routesOfA.getName()).isEqualTo("grpc/default/app-a");
      assertThat(routesOfA.getVirtualHosts(0).getRoutes(0).getRoute().getWeightedClusters()
          .getClustersCount()).isEqualTo(2);
      grpc.ack(weighted, routes);

      // app-b comes back: the client that still names it gets it without asking again.
      Files.writeString(mesh.appsFile, withB);
      DiscoveryResponse backAgain = grpc.next(5);
      assertThat(backAgain).as("app-b reaches the client that named it").isNotNull();
      assertThat(backAgain.getResourcesList().stream().map(any -> {
        try {
          return any.unpack(RouteConfiguration.class).getName();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      })).contains("grpc/default/app-b");
    }
  }
}
