package dev.steelyard.demo;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Asks the control plane, over one short ADS stream, whether it has the listener a gRPC client
 * would dial. grpc-xds itself takes 15 s (its resource fetch timeout) to give up on a name the
 * server does not have, and then says only UNAVAILABLE; this says why within a second.
 */
public final class XdsCheck {

  /** What the check found wrong before any request is sent. */
  public record Problem(Kind kind, String message) {}

  public enum Kind {
    /** The control plane answered without the listener: the name is wrong. */
    NO_SUCH_APP,
    /** No connection could be made. */
    UNREACHABLE,
    /** Connected, but no answer in time (a busy server): worth probing anyway. */
    NO_ANSWER
  }

  private static final String LISTENER_TYPE =
      "type.googleapis.com/envoy.config.listener.v3.Listener";

  private XdsCheck() {}

  public static Optional<Problem> check(String xdsServer, String name, Duration timeout)
      throws InterruptedException {
    ManagedChannel channel = ManagedChannelBuilder.forTarget(xdsServer).usePlaintext().build();
    CompletableFuture<DiscoveryResponse> answer = new CompletableFuture<>();
    try {
      StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
          .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
          .streamAggregatedResources(new StreamObserver<>() {
            @Override
            public void onNext(DiscoveryResponse response) {
              answer.complete(response);
            }

            @Override
            public void onError(Throwable error) {
              answer.completeExceptionally(error);
            }

            @Override
            public void onCompleted() {
              answer.completeExceptionally(new IllegalStateException("stream closed"));
            }
          });
      requests.onNext(DiscoveryRequest.newBuilder()
          .setNode(Node.newBuilder()
              .setId("steelyard-probe-check-" + ProcessHandle.current().pid())
              .setCluster("steelyard-probe")
              .setMetadata(Struct.newBuilder().putFields("steelyard.kind",
                  Value.newBuilder().setStringValue("grpc").build())))
          .setTypeUrl(LISTENER_TYPE)
          .addResourceNames(name)
          .build());
      DiscoveryResponse response;
      try {
        response = answer.get(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
      } catch (ExecutionException | TimeoutException e) {
        Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
        Status.Code code = Status.fromThrowable(cause).getCode();
        if (code == Status.Code.UNAVAILABLE) {
          return Optional.of(new Problem(Kind.UNREACHABLE,
              "control plane unreachable at " + xdsServer + " (" + reason(cause) + ")"));
        }
        if (cause instanceof TimeoutException || code == Status.Code.DEADLINE_EXCEEDED) {
          return Optional.of(new Problem(Kind.NO_ANSWER, "control plane at " + xdsServer
              + " did not answer within " + timeout.toSeconds() + " s"));
        }
        return Optional.of(new Problem(Kind.UNREACHABLE, "control plane at " + xdsServer
            + " refused the check (" + reason(cause) + ")"));
      }
      requests.onCompleted();
      for (Any resource : response.getResourcesList()) {
        if (name.equals(listenerName(resource))) {
          return Optional.empty();
        }
      }
      return Optional.of(new Problem(Kind.NO_SUCH_APP,
          "no such app on the control plane: " + name));
    } finally {
      channel.shutdownNow();
    }
  }

  private static String listenerName(Any resource) {
    try {
      return resource.unpack(Listener.class).getName();
    } catch (InvalidProtocolBufferException e) {
      return null;
    }
  }

  private static String reason(Throwable error) {
    if (error instanceof TimeoutException) {
      return "no answer";
    }
    Status status = Status.fromThrowable(error);
    Throwable cause = status.getCause();
    while (cause != null && cause.getCause() != null) {
      cause = cause.getCause();
    }
    String detail = cause != null && cause.getMessage() != null ? cause.getMessage()
        : status.getDescription();
    return status.getCode() + (detail == null ? "" : ": " + detail);
  }
}
