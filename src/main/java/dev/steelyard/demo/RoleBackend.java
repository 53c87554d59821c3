package dev.steelyard.demo;

import dev.steelyard.demo.v1.StreamRequest;
import dev.steelyard.demo.v1.WhoAreYouReply;
import dev.steelyard.demo.v1.WhoAreYouRequest;
import dev.steelyard.view.SubsetRole;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.grpc.common.GrpcMessageDecoder;
import io.vertx.grpc.common.GrpcMessageEncoder;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import io.vertx.grpc.common.ServiceName;
import io.vertx.grpc.server.GrpcServer;
import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A backend that answers with the role it serves, on one port, over gRPC and plain HTTP:
 * <ul>
 *   <li>gRPC {@code steelyard.demo.v1.RoleService} (proto/steelyard/demo/v1/role.proto), for
 *       proxyless clients and gRPC through Envoy;
 *   <li>HTTP/1.1 and HTTP/2 {@code GET} on any path, for curl and Envoy: the body is the role and a
 *       newline, the header {@value #ROLE_HEADER} the role; {@code ?delay_ms=N} answers after N ms.
 * </ul>
 * Used by {@code serve --demo}, the tests and the benchmark.
 */
public final class RoleBackend implements AutoCloseable {

  public static final String ROLE_HEADER = "x-steelyard-role";
  public static final String VERSION_HEADER = "x-steelyard-version";
  private static final ServiceName SERVICE = ServiceName.create(RoleServiceDescriptor.SERVICE);

  private final Vertx vertx;
  private final HttpServer server;

  private RoleBackend(Vertx vertx, HttpServer server) {
    this.vertx = vertx;
    this.server = server;
  }

  /** One backend answering as {@code role} of {@code app}, on {@code host:port} (0 = any). */
  public static RoleBackend start(String app, SubsetRole role, String host, int port)
      throws IOException {
    return start(app, role, "", host, port);
  }

  /**
   * As {@link #start(String, SubsetRole, String, int)}, answering also with {@code version}
   * (gRPC field {@code version}, HTTP header {@value #VERSION_HEADER}).
   */
  public static RoleBackend start(String app, SubsetRole role, String version, String host,
      int port) throws IOException {
    return start(app, role, version, host, port, Faults.NONE);
  }

  /**
   * What a backend does wrong on purpose, to show and test judgments: answers {@code
   * errorFraction} of requests (at random) with an error (gRPC UNAVAILABLE, HTTP 503), and every
   * answer {@code delayMillis} late.
   */
  public record Faults(double errorFraction, long delayMillis) {

    public static final Faults NONE = new Faults(0, 0);

    public Faults {
      if (!(errorFraction >= 0 && errorFraction <= 1) || delayMillis < 0) {
        throw new IllegalArgumentException("an error fraction is 0 to 1 and a delay at least 0");
      }
    }

    boolean fails() {
      return errorFraction > 0 && java.util.concurrent.ThreadLocalRandom.current().nextDouble()
          < errorFraction;
    }

    @Override
    public String toString() {
      return (errorFraction > 0 ? Math.round(errorFraction * 1000) / 10.0 + " % errors" : "")
          + (errorFraction > 0 && delayMillis > 0 ? ", " : "")
          + (delayMillis > 0 ? "+" + delayMillis + " ms" : "")
          + (errorFraction == 0 && delayMillis == 0 ? "none" : "");
    }
  }

  /** As {@link #start(String, SubsetRole, String, String, int)}, with {@code faults}. */
  public static RoleBackend start(String app, SubsetRole role, String version, String host,
      int port, Faults faults) throws IOException {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    WhoAreYouReply reply = WhoAreYouReply.newBuilder().setApp(app).setRole(role.label())
        .setVersion(version).build();
    GrpcServer grpc = GrpcServer.server(vertx)
        .callHandler(ServiceMethod.server(SERVICE, "WhoAreYou", GrpcMessageEncoder.<WhoAreYouReply>encoder(),
            GrpcMessageDecoder.decoder(WhoAreYouRequest.newBuilder())), call -> {
              call.handler(request -> later(vertx, faults.delayMillis(), () -> {
                if (faults.fails()) {
                  call.response().status(GrpcStatus.UNAVAILABLE)
                      .statusMessage("injected failure").end();
                } else {
                  call.response().end(reply);
                }
              }));
            })
        .callHandler(ServiceMethod.server(SERVICE, "Stream", GrpcMessageEncoder.<WhoAreYouReply>encoder(),
            GrpcMessageDecoder.<StreamRequest>decoder(StreamRequest.newBuilder())), call -> {
              call.handler(request -> stream(vertx, call.response(), reply, request));
            });
    HttpServer server = vertx.createHttpServer(new HttpServerOptions()
            .setHost(host).setPort(port).setHttp2ClearTextEnabled(true)
            // grpc-java resets each finished stream; Netty's RST-flood guard (200 per 30 s)
            // would close a client's connection after 200 RPCs.
            .setHttp2RstFloodMaxRstFramePerWindow(Integer.MAX_VALUE))
        .requestHandler(request -> {
          String type = request.getHeader("content-type");
          if (type != null && type.startsWith("application/grpc")) {
            grpc.handle(request);
          } else {
            answerHttp(vertx, request, role, version, faults);
          }
        });
    try {
      server.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException | ExecutionException | TimeoutException e) {
      vertx.close();
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      throw new IOException("cannot listen on " + host + ":" + port + ": " + cause.getMessage(),
          cause);
    }
    return new RoleBackend(vertx, server);
  }

  private static void later(Vertx vertx, long delayMillis, Runnable action) {
    if (delayMillis > 0) {
      vertx.setTimer(delayMillis, id -> action.run());
    } else {
      action.run();
    }
  }

  private static void answerHttp(Vertx vertx, HttpServerRequest request, SubsetRole role,
      String version, Faults faults) {
    long delay = faults.delayMillis();
    String asked = request.getParam("delay_ms");
    if (asked != null) {
      try {
        delay += Long.parseLong(asked);
      } catch (NumberFormatException e) {
        request.response().setStatusCode(400).end("delay_ms must be a number\n");
        return;
      }
    }
    boolean fail = faults.fails();
    Runnable answer = () -> request.response()
        .setStatusCode(fail ? 503 : 200)
        .putHeader(ROLE_HEADER, role.label())
        .putHeader(VERSION_HEADER, version)
        .putHeader("content-type", "text/plain")
        .end(fail ? "injected failure\n" : role.label() + "\n");
    later(vertx, delay, answer);
  }

  private static void stream(Vertx vertx, io.vertx.grpc.server.GrpcServerResponse<StreamRequest,
      WhoAreYouReply> response, WhoAreYouReply reply, StreamRequest request) {
    int count = Math.min(Math.max(1, request.getCount()), 10_000);
    long interval = Math.max(1, request.getIntervalMillis());
    int[] sent = {0};
    vertx.setPeriodic(interval, id -> {
      sent[0]++;
      if (sent[0] >= count) {
        vertx.cancelTimer(id);
        response.end(reply);
      } else {
        response.write(reply);
      }
    });
  }

  public int port() {
    return server.actualPort();
  }

  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // closing is best effort: the process is going away or the test is over
    }
  }
}
