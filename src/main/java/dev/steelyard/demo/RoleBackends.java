package dev.steelyard.demo;

import dev.steelyard.demo.v1.WhoAreYouReply;
import dev.steelyard.demo.v1.WhoAreYouRequest;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCalls;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Small gRPC backends that answer with the role they serve, so that a client can count where
 * its requests landed. Used by {@code serve --demo} and by the tests.
 */
public final class RoleBackends implements AutoCloseable {

  private final List<Server> servers = new ArrayList<>();

  /** One backend answering as {@code role} of {@code app}, on {@code host:port} (0 = any). */
  public static Server start(String app, SubsetRole role, String host, int port)
      throws IOException {
    return NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
        .addService(service(app, role))
        .build()
        .start();
  }

  /** Starts a backend on every loopback endpoint of the given apps. */
  public static RoleBackends forLoopbackEndpoints(List<AppSpec> apps) throws IOException {
    RoleBackends backends = new RoleBackends();
    try {
      for (AppSpec app : apps) {
        for (SubsetRole role : SubsetRole.values()) {
          for (Endpoint endpoint : app.endpoints(role)) {
            if (endpoint.ip().startsWith("127.")) {
              backends.servers.add(start(app.key().name(), role, endpoint.ip(), endpoint.port()));
            }
          }
        }
      }
    } catch (IOException e) {
      backends.close();
      throw new IOException("cannot start demo backends: " + e.getMessage(), e);
    }
    return backends;
  }

  public int size() {
    return servers.size();
  }

  @Override
  public void close() {
    for (Server server : servers) {
      server.shutdownNow();
    }
    for (Server server : servers) {
      try {
        server.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static ServerServiceDefinition service(String app, SubsetRole role) {
    WhoAreYouReply reply = WhoAreYouReply.newBuilder().setApp(app).setRole(role.label()).build();
    return ServerServiceDefinition.builder(RoleServiceDescriptor.SERVICE)
        .addMethod(RoleServiceDescriptor.WHO_ARE_YOU,
            ServerCalls.asyncUnaryCall((WhoAreYouRequest request,
                StreamObserver<WhoAreYouReply> responses) -> {
              responses.onNext(reply);
              responses.onCompleted();
            }))
        .build();
  }
}
