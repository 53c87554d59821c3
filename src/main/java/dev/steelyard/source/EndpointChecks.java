package dev.steelyard.source;

import dev.steelyard.view.Endpoint;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** One check of one endpoint: empty when it passed, else why it failed. Thread-safe. */
final class EndpointChecks implements AutoCloseable {

  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .build();
  /** One channel per endpoint checked over gRPC, kept between rounds as a prober would. */
  private final Map<Endpoint, ManagedChannel> channels = new ConcurrentHashMap<>();

  Optional<String> check(HealthCheck check, Endpoint endpoint) {
    return switch (check.type()) {
      case TCP -> tcp(check, endpoint);
      case HTTP -> http(check, endpoint);
      case GRPC -> grpc(check, endpoint);
    };
  }

  private static Optional<String> tcp(HealthCheck check, Endpoint endpoint) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(endpoint.ip(), endpoint.port()),
          (int) check.timeout().toMillis());
      return Optional.empty();
    } catch (IOException e) {
      return Optional.of("tcp connect: " + e.getMessage());
    }
  }

  private Optional<String> http(HealthCheck check, Endpoint endpoint) {
    HttpRequest request = HttpRequest.newBuilder(
            URI.create("http://" + endpoint + check.path()))
        .timeout(check.timeout())
        .GET()
        .build();
    // The request's own timeout ends with the headers; the whole answer is bounded here.
    var answer = http.sendAsync(request, HttpResponse.BodyHandlers.discarding());
    try {
      int status = answer.get(check.timeout().toMillis(), TimeUnit.MILLISECONDS).statusCode();
      return status / 100 == 2 ? Optional.empty()
          : Optional.of("http GET " + check.path() + " answered " + status);
    } catch (java.util.concurrent.TimeoutException e) {
      answer.cancel(true);
      return Optional.of("http GET " + check.path() + ": no answer within "
          + check.timeout().toMillis() + " ms");
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      return Optional.of("http GET " + check.path() + ": " + (cause.getMessage() == null
          ? cause.getClass().getSimpleName() : cause.getMessage()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("http GET " + check.path() + ": interrupted");
    }
  }

  private Optional<String> grpc(HealthCheck check, Endpoint endpoint) {
    ManagedChannel channel = channels.computeIfAbsent(endpoint, key -> ManagedChannelBuilder
        .forAddress(key.ip(), key.port()).usePlaintext().build());
    // A channel that failed for long backs off its reconnects to minutes; a recovered endpoint
    // must be seen within the check's interval.
    channel.resetConnectBackoff();
    try {
      HealthCheckResponse.ServingStatus status = HealthGrpc.newBlockingStub(channel)
          .withDeadlineAfter(check.timeout().toMillis(), TimeUnit.MILLISECONDS)
          .check(HealthCheckRequest.getDefaultInstance()).getStatus();
      return status == HealthCheckResponse.ServingStatus.SERVING ? Optional.empty()
          : Optional.of("grpc health: " + status);
    } catch (StatusRuntimeException e) {
      Status status = e.getStatus();
      return Optional.of("grpc health: " + status.getCode()
          + (status.getDescription() == null ? "" : ": " + status.getDescription()));
    }
  }

  /** The endpoint is no longer checked. */
  void forget(Endpoint endpoint) {
    ManagedChannel channel = channels.remove(endpoint);
    if (channel != null) {
      channel.shutdownNow();
    }
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    channels.clear();
  }
}
