package dev.steelyard.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.steelyard.demo.RoleBackend;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.health.v1.HealthCheckResponse;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Each kind of check against real listeners on loopback, and against a port nobody serves. */
class EndpointChecksTest {

  private static HealthCheck check(HealthCheck.Type type, String path) {
    // Timeouts generous for a loaded machine: the first request of a JVM is slow.
    return new HealthCheck(type, path, Duration.ofSeconds(10), Duration.ofSeconds(5), 1, 1);
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  @Test
  void tcpAndHttpPassOnARoleBackendAndFailOnAClosedPort() throws Exception {
    Endpoint dead = new Endpoint("127.0.0.1", freePort());
    try (EndpointChecks checks = new EndpointChecks();
        RoleBackend backend = RoleBackend.start("hello-app", SubsetRole.MAIN, "127.0.0.1", 0)) {
      Endpoint alive = new Endpoint("127.0.0.1", backend.port());
      assertThat(checks.check(check(HealthCheck.Type.TCP, "/"), alive)).isEmpty();
      assertThat(checks.check(check(HealthCheck.Type.HTTP, "/healthz"), alive)).isEmpty();
      assertThat(checks.check(check(HealthCheck.Type.TCP, "/"), dead)).hasValueSatisfying(
          reason -> assertThat(reason).isEqualTo("tcp connect: Connection refused"));
      assertThat(checks.check(check(HealthCheck.Type.HTTP, "/healthz"), dead)).isPresent();
    }
  }

  @Test
  void httpFailsOnANon2xxAnswer() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      exchange.sendResponseHeaders(503, -1);
      exchange.close();
    });
    server.start();
    try (EndpointChecks checks = new EndpointChecks()) {
      assertThat(checks.check(check(HealthCheck.Type.HTTP, "/ready"),
          new Endpoint("127.0.0.1", server.getAddress().getPort())))
          .hasValue("http GET /ready answered 503");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void grpcPassesOnlyWhenTheHealthServiceSaysServing() throws Exception {
    HealthStatusManager health = new HealthStatusManager();
    Server server = ServerBuilder.forPort(0).addService(health.getHealthService()).build()
        .start();
    Endpoint endpoint = new Endpoint("127.0.0.1", server.getPort());
    try (EndpointChecks checks = new EndpointChecks()) {
      health.setStatus("", HealthCheckResponse.ServingStatus.SERVING);
      assertThat(checks.check(check(HealthCheck.Type.GRPC, "/"), endpoint)).isEmpty();
      health.setStatus("", HealthCheckResponse.ServingStatus.NOT_SERVING);
      assertThat(checks.check(check(HealthCheck.Type.GRPC, "/"), endpoint))
          .hasValue("grpc health: NOT_SERVING");
    } finally {
      server.shutdownNow();
    }
  }
}
