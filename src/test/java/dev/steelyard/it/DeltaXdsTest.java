package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Delta xDS is refused with a reason rather than served with known gaps. */
class DeltaXdsTest {

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
}
