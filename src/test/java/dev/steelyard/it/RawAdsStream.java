package dev.steelyard.it;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An ADS stream driven by hand, for protocol behaviour a well-behaved client never shows
 * (such as NACKing on purpose). Responses queue up so tests can count exactly what was sent.
 */
public final class RawAdsStream implements AutoCloseable {

  final Node node;
  /** Like Envoy's set_node_on_first_message_only: only the first request carries the node. */
  boolean nodeOnFirstRequestOnly;
  private boolean sentNode;
  private final ManagedChannel channel;
  private final StreamObserver<DiscoveryRequest> requests;
  final LinkedBlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
  final java.util.concurrent.CompletableFuture<Throwable> closedWithError =
      new java.util.concurrent.CompletableFuture<>();

  public RawAdsStream(int xdsPort, String nodeId, String kind) {
    this(xdsPort, nodeId, kind, java.util.Optional.empty());
  }

  /** A stream that sends {@code token} as its bearer token. */
  RawAdsStream(int xdsPort, String nodeId, String kind, java.util.Optional<String> token) {
    this(ManagedChannelBuilder.forAddress("127.0.0.1", xdsPort).usePlaintext().build(), nodeId,
        kind, token);
  }

  /** A stream on {@code channel} (closed with the stream), e.g. one with TLS. */
  RawAdsStream(ManagedChannel channel, String nodeId, String kind,
      java.util.Optional<String> token) {
    node = Node.newBuilder()
        .setId(nodeId)
        .setCluster("tests")
        .setMetadata(Struct.newBuilder()
            .putFields("steelyard.kind", Value.newBuilder().setStringValue(kind).build()))
        .build();
    this.channel = channel;
    io.grpc.Metadata headers = new io.grpc.Metadata();
    token.ifPresent(value -> headers.put(io.grpc.Metadata.Key.of("authorization",
        io.grpc.Metadata.ASCII_STRING_MARSHALLER), "Bearer " + value));
    requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
        .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers))
        .streamAggregatedResources(new StreamObserver<>() {
          @Override
          public void onNext(DiscoveryResponse response) {
            responses.add(response);
          }

          @Override
          public void onError(Throwable t) {
            closedWithError.complete(t);
          }

          @Override
          public void onCompleted() {}
        });
  }

  public void request(String typeUrl, List<String> names) {
    send(DiscoveryRequest.newBuilder().setTypeUrl(typeUrl).addAllResourceNames(names));
  }

  void ack(DiscoveryResponse response, List<String> names) {
    send(DiscoveryRequest.newBuilder()
        .setTypeUrl(response.getTypeUrl())
        .addAllResourceNames(names)
        .setVersionInfo(response.getVersionInfo())
        .setResponseNonce(response.getNonce()));
  }

  /** Rejects {@code response}, reporting {@code lastGoodVersion} as the protocol requires. */
  void nack(DiscoveryResponse response, List<String> names, String lastGoodVersion,
      String message) {
    send(DiscoveryRequest.newBuilder()
        .setTypeUrl(response.getTypeUrl())
        .addAllResourceNames(names)
        .setVersionInfo(lastGoodVersion)
        .setResponseNonce(response.getNonce())
        .setErrorDetail(Status.newBuilder().setCode(3).setMessage(message)));
  }

  /** A first request without the node, which the server must refuse. */
  synchronized void requestWithoutNode(String typeUrl, List<String> names) {
    sentNode = true;
    requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(typeUrl)
        .addAllResourceNames(names).build());
  }

  synchronized void send(DiscoveryRequest.Builder request) {
    if (!sentNode || !nodeOnFirstRequestOnly) {
      request.setNode(node);
    }
    sentNode = true;
    requests.onNext(request.build());
  }

  public DiscoveryResponse next(long seconds) throws InterruptedException {
    return responses.poll(seconds, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    requests.onCompleted();
    channel.shutdownNow();
  }
}
