package dev.steelyard.it;

import dev.steelyard.demo.RoleServiceDescriptor;
import dev.steelyard.demo.v1.WhoAreYouRequest;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.NameResolverRegistry;
import io.grpc.stub.ClientCalls;
import io.grpc.xds.XdsNameResolverProvider;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * grpc-java's real xDS client, bootstrapped to a test server. Each instance registers its own
 * resolver scheme because the global bootstrap is read once per JVM.
 */
final class XdsTestClient implements AutoCloseable {

  private static final AtomicInteger SCHEMES = new AtomicInteger();

  final String nodeId;
  private final XdsNameResolverProvider provider;
  private final ManagedChannel channel;

  XdsTestClient(int xdsPort, String nodeId, String target) {
    this(xdsPort, nodeId, target, Map.of("type", "insecure"));
  }

  /** A client whose xDS connection uses {@code channelCreds} (bootstrap "channel_creds"). */
  XdsTestClient(int xdsPort, String nodeId, String target, Map<String, Object> channelCreds) {
    this.nodeId = nodeId;
    String scheme = "xds-test" + SCHEMES.incrementAndGet();
    Map<String, Object> bootstrap = Map.of(
        "xds_servers", List.of(Map.of(
            "server_uri", "127.0.0.1:" + xdsPort,
            "channel_creds", List.of(channelCreds),
            "server_features", List.of("xds_v3"))),
        "node", Map.of(
            "id", nodeId,
            "cluster", "tests",
            "locality", Map.of("zone", "a"),
            "metadata", Map.of("steelyard.kind", "grpc", "steelyard.app", "default/client")));
    provider = XdsNameResolverProvider.createForTest(scheme, bootstrap);
    NameResolverRegistry.getDefaultRegistry().register(provider);
    channel = ManagedChannelBuilder.forTarget(scheme + ":///" + target).usePlaintext().build();
  }

  String call() {
    return reply().getRole();
  }

  /** One RPC's whole answer: role, app and (demo workloads) version. */
  dev.steelyard.demo.v1.WhoAreYouReply reply() {
    return ClientCalls.blockingUnaryCall(channel, RoleServiceDescriptor.WHO_ARE_YOU,
        CallOptions.DEFAULT.withWaitForReady().withDeadlineAfter(20, TimeUnit.SECONDS),
        WhoAreYouRequest.getDefaultInstance());
  }

  /** Sends {@code n} RPCs and counts "role@version" of the answers. */
  Map<String, Integer> countVersions(int n) {
    Map<String, Integer> counts = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      var reply = reply();
      counts.merge(reply.getRole() + "@" + reply.getVersion(), 1, Integer::sum);
    }
    return counts;
  }

  /** Sends {@code n} RPCs and counts the roles that answered. */
  Map<String, Integer> count(int n) {
    Map<String, Integer> counts = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      counts.merge(call(), 1, Integer::sum);
    }
    return counts;
  }

  @Override
  public void close() {
    channel.shutdownNow();
    NameResolverRegistry.getDefaultRegistry().deregister(provider);
  }
}
