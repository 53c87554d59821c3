package dev.steelyard.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ControlPlane;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ResponseBytesTest {

  private static final List<Any> CLUSTERS = List.of(
      Any.pack(Cluster.newBuilder().setName("shop/main").build()),
      Any.pack(Cluster.newBuilder().setName("shop/canary").build()));

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private static DiscoveryResponse response(List<Any> resources, String nonce) {
    return DiscoveryResponse.newBuilder().setVersionInfo("v1")
        .setTypeUrl("type.googleapis.com/envoy.config.cluster.v3.Cluster")
        .addAllResources(resources).setNonce(nonce).build();
  }

  private double count(String result) {
    return meters.get("steelyard_xds_response_encodings_total").tag("result", result)
        .counter().count();
  }

  /** Serves ADS on loopback through {@link ResponseBytes}, answering each request as told. */
  private LinkedBlockingQueue<DiscoveryResponse> serve(
      Function<DiscoveryRequest, DiscoveryResponse> answer) throws Exception {
    var ads = new AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase() {
      @Override
      public StreamObserver<DiscoveryRequest> streamAggregatedResources(
          StreamObserver<DiscoveryResponse> responses) {
        return new StreamObserver<>() {
          @Override
          public void onNext(DiscoveryRequest request) {
            responses.onNext(answer.apply(request));
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {
            responses.onCompleted();
          }
        };
      }
    };
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(ResponseBytes.sharing(ads.bindService(), meters)).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
        .build();
    LinkedBlockingQueue<DiscoveryResponse> received = new LinkedBlockingQueue<>();
    StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
        .streamAggregatedResources(new StreamObserver<>() {
          @Override
          public void onNext(DiscoveryResponse response) {
            received.add(response);
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    for (String nonce : List.of("1", "2", "3")) {
      requests.onNext(DiscoveryRequest.newBuilder().setResponseNonce(nonce).build());
    }
    requests.onCompleted();
    return received;
  }

  @Test
  void streamsSentTheSameResourcesShareOneEncodingAndKeepTheirOwnNonce() throws Exception {
    var received = serve(request -> response(CLUSTERS, "nonce-" + request.getResponseNonce()));
    for (String nonce : List.of("nonce-1", "nonce-2", "nonce-3")) {
      DiscoveryResponse got = received.poll(10, TimeUnit.SECONDS);
      assertThat(got).isEqualTo(response(CLUSTERS, nonce));
    }
    assertThat(count("encoded")).isEqualTo(1);
    assertThat(count("reused")).isEqualTo(2);
  }

  @Test
  void equalResourcesThatAreOtherInstancesAreEncodedAgain() throws Exception {
    // The same content packed again is not known to be the same without comparing the bytes.
    var received = serve(request -> response(List.of(
        Any.pack(Cluster.newBuilder().setName("shop/main").build())), request.getResponseNonce()));
    for (String nonce : List.of("1", "2", "3")) {
      assertThat(received.poll(10, TimeUnit.SECONDS).getNonce()).isEqualTo(nonce);
    }
    assertThat(count("encoded")).isEqualTo(3);
    assertThat(count("reused")).isZero();
  }

  @Test
  void anotherVersionOrASubsetIsNotTakenForAnEarlierResponse() throws Exception {
    var received = serve(request -> switch (request.getResponseNonce()) {
      case "1" -> response(CLUSTERS, "a");
      case "2" -> response(CLUSTERS.subList(0, 1), "b");
      default -> response(CLUSTERS, "c").toBuilder().setVersionInfo("v2").build();
    });
    assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo(response(CLUSTERS, "a"));
    assertThat(received.poll(10, TimeUnit.SECONDS))
        .isEqualTo(response(CLUSTERS.subList(0, 1), "b"));
    assertThat(received.poll(10, TimeUnit.SECONDS))
        .isEqualTo(response(CLUSTERS, "c").toBuilder().setVersionInfo("v2").build());
    assertThat(count("encoded")).isEqualTo(3);
  }

  @Test
  void aResponseWithOtherFieldsIsEncodedAsItIs() throws Exception {
    DiscoveryResponse withControlPlane = response(CLUSTERS, "x").toBuilder()
        .setControlPlane(ControlPlane.newBuilder().setIdentifier("steelyard")).build();
    var received = serve(request -> withControlPlane);
    assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo(withControlPlane);
    assertThat(count("encoded") + count("reused")).isZero();
  }

  @Test
  void readingByteByByteGivesWhatDrainingGives() throws Exception {
    ResponseBytes bytes = new ResponseBytes(
        io.grpc.protobuf.ProtoUtils.marshaller(DiscoveryResponse.getDefaultInstance()), meters);
    DiscoveryResponse original = response(CLUSTERS, "nonce-7");
    InputStream drained = bytes.stream(original);
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    int length = drained.available();
    assertThat(((io.grpc.Drainable) drained).drainTo(all)).isEqualTo(length);
    assertThat(DiscoveryResponse.parseFrom(all.toByteArray())).isEqualTo(original);

    InputStream read = bytes.stream(original);
    ByteArrayOutputStream pieces = new ByteArrayOutputStream();
    pieces.write(read.read());
    byte[] chunk = new byte[7];
    for (int n; (n = read.read(chunk, 0, chunk.length)) > 0; ) {
      pieces.write(chunk, 0, n);
    }
    assertThat(read.read()).isEqualTo(-1);
    assertThat(pieces.toByteArray()).isEqualTo(all.toByteArray());

    InputStream again = bytes.stream(original);
    again.skip(3);
    again.mark(Integer.MAX_VALUE);
    byte[] first = again.readAllBytes();
    again.reset();
    assertThat(again.readAllBytes()).isEqualTo(first)
        .isEqualTo(java.util.Arrays.copyOfRange(all.toByteArray(), 3, length));
  }

  @Test
  void theByteStreamWrapperTheServiceSitsBehindHandsTheMessageOnAsItIs() throws Exception {
    // XdsService serves ADS through useInputStreamMessages, whose marshaller copies a stream
    // without mark support into a buffered one: the transport would then copy it through a
    // buffer instead of draining it.
    var ads = new AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase() {};
    var typed = ResponseBytes.sharing(ads.bindService(), meters);
    String method = AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod()
        .getFullMethodName();
    @SuppressWarnings("unchecked")
    var toTransport = (io.grpc.MethodDescriptor.Marshaller<InputStream>)
        io.grpc.ServerInterceptors.useInputStreamMessages(typed).getMethod(method)
            .getMethodDescriptor().getResponseMarshaller();
    @SuppressWarnings("unchecked")
    var shared = (io.grpc.MethodDescriptor.Marshaller<DiscoveryResponse>)
        typed.getMethod(method).getMethodDescriptor().getResponseMarshaller();
    InputStream message = shared.stream(response(CLUSTERS, "nonce-8"));

    assertThat(message).isInstanceOf(io.grpc.Drainable.class);
    assertThat(toTransport.parse(message)).isSameAs(message);
  }
}
