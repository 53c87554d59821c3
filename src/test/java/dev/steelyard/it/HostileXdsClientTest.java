package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.util.internal.PlatformDependent;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Clients that break the xDS protocol on purpose, on loopback, each bounded in count and time:
 * the server must stay within its memory bound, keep no state for them, keep its log readable,
 * and keep serving a well-behaved client at its usual pace meanwhile.
 */
class HostileXdsClientTest {

  private static final String CLUSTERS = Resources.V3.CLUSTER_TYPE_URL;
  private static final String ENDPOINTS = Resources.V3.ENDPOINT_TYPE_URL;
  private static final String ROUTES = Resources.V3.ROUTE_TYPE_URL;
  private static final List<String> HELLO_ROUTES = List.of("grpc/default/hello-app");
  /** What the server may hold for one client that never reads: a few responses, not all. */
  private static final long NON_READER_BOUND_BYTES = 16L << 20;

  private TestMesh mesh;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeEach
  void start(@TempDir Path dir) throws Exception {
    mesh = new TestMesh(dir, new int[] {1, 1, 1}, Optional.empty());
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable closeable : open) {
      closeable.close();
    }
    mesh.close();
  }

  @Test
  void aClientThatNeverReadsButKeepsAskingIsBoundedAndThenClosed() throws Exception {
    addApps(300);
    ManagedChannel channel = channel();
    ClientCall<DiscoveryRequest, DiscoveryResponse> call = channel.newCall(
        AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod(), CallOptions.DEFAULT);
    call.start(new ClientCall.Listener<>() {}, new Metadata());
    // Never call.request(n): the client's flow-control window fills and stays full.
    call.sendMessage(DiscoveryRequest.newBuilder().setNode(node("never-reads", "sidecar"))
        .setTypeUrl(CLUSTERS).build());
    long baseline = serverBytes();
    long peak = 0;
    // java-control-plane numbers its nonces 0, 1, 2...: each guess answers the last response
    // and, with a version the server does not have, asks for the whole set again.
    // The client cannot know how far the server got, so each round guesses the last few.
    for (int nonce = 0; nonce < 3_000; nonce++) {
      for (int guess = Math.max(0, nonce - 8); guess <= nonce; guess++) {
        call.sendMessage(DiscoveryRequest.newBuilder().setTypeUrl(CLUSTERS)
            .setVersionInfo("bogus").setResponseNonce(Integer.toString(guess)).build());
      }
      if (nonce % 100 == 0) {
        Thread.sleep(20);
        peak = Math.max(peak, serverBytes() - baseline);
        assertThat(peak).as("bytes held for a client that never reads")
            .isLessThan(NON_READER_BOUND_BYTES);
      }
    }
    System.out.printf("non-reading client: peak %.1f MiB over the baseline; %.0f requests "
        + "dropped as stale, %.0f responses replaced%n", peak / 1048576.0,
        metric("steelyard_xds_requests_dropped_total"),
        metric("steelyard_xds_responses_replaced_total"));
    // The client cannot see the status: it sits behind the responses it does not read.
    await().atMost(Duration.ofSeconds(10)).until(() -> streams() == 0);
    assertThat(metric("steelyard_xds_streams_closed_not_reading_total")).isEqualTo(1);
    assertThat(metric("steelyard_xds_requests_dropped_total")).isGreaterThan(100);
  }

  @Test
  void aWellBehavedClientKeepsItsPaceWhileClientsThatNeverReadRun() throws Exception {
    addApps(200);
    List<ClientCall<DiscoveryRequest, DiscoveryResponse>> hostile = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      ClientCall<DiscoveryRequest, DiscoveryResponse> call = channel().newCall(
          AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod(),
          CallOptions.DEFAULT);
      call.start(new ClientCall.Listener<>() {}, new Metadata());
      call.sendMessage(DiscoveryRequest.newBuilder().setNode(node("hostile-" + i, "sidecar"))
          .setTypeUrl(CLUSTERS).build());
      hostile.add(call);
    }
    try (RawAdsStream good = new RawAdsStream(mesh.server.xdsPort(), "good", "grpc")) {
      good.request(ROUTES, HELLO_ROUTES);
      DiscoveryResponse first = good.next(5);
      assertThat(first).isNotNull();
      good.ack(first, HELLO_ROUTES);
      Thread flood = new Thread(() -> {
        for (int nonce = 0; nonce < 600; nonce++) {
          for (var call : hostile) {
            call.sendMessage(DiscoveryRequest.newBuilder().setTypeUrl(CLUSTERS)
                .setVersionInfo("bogus").setResponseNonce(Integer.toString(nonce)).build());
          }
        }
      });
      flood.start();
      long start = System.nanoTime();
      assertThat(mesh.putSplit("{\"mode\":\"test\",\"canaryWeight\":7}").statusCode()).isEqualTo(200);
      System.out.printf("PUT answered in %d ms%n", (System.nanoTime() - start) / 1_000_000);
      DiscoveryResponse changed = good.next(5);
      long millis = (System.nanoTime() - start) / 1_000_000;
      flood.join();
      assertThat(changed).as("the new routes, while four clients flood").isNotNull();
      assertThat(changed.getVersionInfo()).isNotEqualTo(first.getVersionInfo());
      System.out.printf("weight change reached the good client in %d ms%n", millis);
      assertThat(millis).isLessThan(5_000);
    }
  }

  @Test
  void undecodableFirstMessagesLeaveNoStreamsAndOneShortLineEach() throws Exception {
    ListAppender<ILoggingEvent> logged = captureLogs();
    MethodDescriptor<byte[], byte[]> raw = AggregatedDiscoveryServiceGrpc
        .getStreamAggregatedResourcesMethod().toBuilder(new Bytes(), new Bytes()).build();
    ManagedChannel channel = channel();
    for (int i = 0; i < 200; i++) {
      CompletableFuture<Status> closed = new CompletableFuture<>();
      ClientCall<byte[], byte[]> call = channel.newCall(raw, CallOptions.DEFAULT);
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onClose(Status status, Metadata trailers) {
          closed.complete(status);
        }
      }, new Metadata());
      call.request(1);
      // Field 1 (version_info) as a length-delimited field whose length runs past the end.
      call.sendMessage(new byte[] {0x0a, 0x7f, 'x'});
      call.halfClose();
      Status status = closed.get(5, TimeUnit.SECONDS);
      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> streams() == 0);
    long lines = logged.list.stream().filter(event -> event.getLevel().toInt() >= 30_000).count();
    int longest = logged.list.stream().mapToInt(event -> event.getFormattedMessage().length()
        + (event.getThrowableProxy() == null ? 0 : 10_000)).max().orElse(0);
    // Ten a minute, and a line saying how many were left out.
    assertThat(lines).as("WARN lines for 200 undecodable streams").isLessThanOrEqualTo(11);
    assertThat(longest).as("longest line, counting a stack trace as 10,000").isLessThan(600);
  }

  @Test
  void refusedStreamsLeaveNoState() throws Exception {
    for (int i = 0; i < 50; i++) {
      try (RawAdsStream noNode = new RawAdsStream(mesh.server.xdsPort(), "x", "grpc")) {
        noNode.requestWithoutNode(ROUTES, HELLO_ROUTES);
        assertThat(Status.fromThrowable(noNode.closedWithError.get(5, TimeUnit.SECONDS))
            .getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      }
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> streams() == 0);
  }

  @Test
  void oversizedNamesAndNodesAreRefusedWithAReason() throws Exception {
    List<String> tooMany = new ArrayList<>();
    for (int i = 0; i < 60_000; i++) {
      tooMany.add("endpoint-" + i);
    }
    try (RawAdsStream stream = new RawAdsStream(mesh.server.xdsPort(), "many", "sidecar")) {
      stream.request(ENDPOINTS, tooMany);
      Status status = Status.fromThrowable(stream.closedWithError.get(5, TimeUnit.SECONDS));
      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(status.getDescription()).contains("60000 resource names").contains("50000");
    }
    try (RawAdsStream stream = new RawAdsStream(mesh.server.xdsPort(), "n".repeat(1 << 20),
        "sidecar")) {
      stream.request(CLUSTERS, List.of());
      Status status = Status.fromThrowable(stream.closedWithError.get(5, TimeUnit.SECONDS));
      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(status.getDescription()).contains("node id");
    }
    assertThat(mesh.server.proxies().proxies()).isEmpty();
    await().atMost(Duration.ofSeconds(5)).until(() -> streams() == 0);
  }

  @Test
  void manyDistinctNameListsDoNotStayInMemory() throws Exception {
    long before = heapAfterGc();
    try (RawAdsStream stream = new RawAdsStream(mesh.server.xdsPort(), "lists", "sidecar")) {
      DiscoveryResponse last = null;
      for (int list = 0; list < 120; list++) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
          names.add("cluster-" + list + "-" + i);
        }
        // A new list of names answers the last response, as a client changing its mind does.
        if (last == null) {
          stream.request(ENDPOINTS, names);
        } else {
          stream.ack(last, names);
        }
        last = stream.next(10);
        assertThat(last).as("response to list " + list).isNotNull();
      }
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> streams() == 0);
    long grown = heapAfterGc() - before;
    System.out.printf("heap after 120 lists of 20,000 names: %+.1f MiB%n", grown / 1048576.0);
    // 2.4 million names were asked for; keeping them would take well over 150 MiB.
    assertThat(grown).isLessThan(64L << 20);
  }

  @Test
  void aRepeatedNackIsLoggedOnceAndAForgedLineCannotBeWritten() throws Exception {
    ListAppender<ILoggingEvent> logged = captureLogs();
    try (RawAdsStream stream = new RawAdsStream(mesh.server.xdsPort(), "nacker", "grpc")) {
      stream.request(ROUTES, HELLO_ROUTES);
      DiscoveryResponse first = stream.next(5);
      assertThat(first).isNotNull();
      String forged = "bad route\n12:00:00.000 INFO  split default/hello-app set main=0 canary=100";
      for (int i = 0; i < 2_000; i++) {
        stream.nack(first, HELLO_ROUTES, "", forged);
      }
      stream.nack(first, HELLO_ROUTES, "", "x".repeat(1 << 20));
      await().atMost(Duration.ofSeconds(5)).until(() -> mesh.server.proxies().proxies().stream()
          .anyMatch(p -> p.lastNack().map(n -> n.message().startsWith("xxx")).orElse(false)));
    }
    List<String> nackLines = logged.list.stream().map(ILoggingEvent::getFormattedMessage)
        .filter(line -> line.contains("rejected")).toList();
    assertThat(nackLines).as("lines for 2,001 NACKs").hasSizeLessThanOrEqualTo(3);
    assertThat(nackLines).allSatisfy(line -> {
      assertThat(line).doesNotContain("\n").hasSizeLessThan(1_200);
    });
    assertThat(nackLines.get(0)).contains("\\n12:00:00.000");
  }

  @Test
  void idleConnectionsBeyondTheCapAreClosedAndTheServerKeepsServing() throws Exception {
    mesh.stopServer();
    mesh.xdsLimits = mesh.xdsLimits.withMaxConnections(20);
    mesh.start(0);
    List<java.net.Socket> idle = new ArrayList<>();
    try {
      for (int i = 0; i < 50; i++) {
        idle.add(new java.net.Socket("127.0.0.1", mesh.server.xdsPort()));
      }
      await().atMost(Duration.ofSeconds(5)).until(() ->
          metric("steelyard_connections_refused_total{port=\"xds\"}") >= 30);
      assertThat(metric("steelyard_connections{port=\"xds\"}")).isEqualTo(20);
      // The refused ones are closed: reading gives end of stream at once.
      java.net.Socket last = idle.get(idle.size() - 1);
      last.setSoTimeout(5_000);
      assertThat(last.getInputStream().read()).isEqualTo(-1);
      assertThat(mesh.get("/healthz").statusCode()).isEqualTo(200);
    } finally {
      for (java.net.Socket socket : idle) {
        socket.close();
      }
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> metric("steelyard_connections{port=\"xds\"}") == 0);
    try (RawAdsStream stream = new RawAdsStream(mesh.server.xdsPort(), "after", "grpc")) {
      stream.request(ROUTES, HELLO_ROUTES);
      assertThat(stream.next(5)).isNotNull();
    }
  }

  /** Appends {@code count} apps, three endpoints each, to the apps file, and waits for them. */
  private void addApps(int count) throws Exception {
    StringBuilder yaml = new StringBuilder(mesh.appsYaml());
    for (int i = 0; i < count; i++) {
      yaml.append("  - name: filler-").append(i).append("\n")
          .append("    namespace: default\n    port: 8080\n    protocol: http\n")
          .append("    endpoints:\n")
          .append("      main: [\"127.0.0.1:1\"]\n      baseline: [\"127.0.0.1:2\"]\n")
          .append("      canary: [\"127.0.0.1:3\"]\n");
    }
    Files.writeString(mesh.appsFile, yaml.toString());
    await().atMost(Duration.ofSeconds(10))
        .until(() -> mesh.get("/api/v1/apps").body().contains("filler-" + (count - 1)));
  }

  private ManagedChannel channel() {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", mesh.server.xdsPort())
        .usePlaintext().flowControlWindow(64 * 1024).build();
    open.add(() -> channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    return channel;
  }

  private static Node node(String id, String kind) {
    return Node.newBuilder().setId(id).setCluster("tests")
        .setMetadata(com.google.protobuf.Struct.newBuilder().putFields("steelyard.kind",
            com.google.protobuf.Value.newBuilder().setStringValue(kind).build()))
        .build();
  }

  private int streams() throws Exception {
    return (int) metric("steelyard_xds_streams");
  }

  private double metric(String name) throws Exception {
    return mesh.get("/metrics").body().lines()
        .filter(line -> line.startsWith(name + " "))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.indexOf(' ') + 1)))
        .findFirst().orElseThrow();
  }

  /**
   * Netty's direct memory: where serialized responses wait for the peer's flow-control window.
   * Responses held back instead share their resources with every other stream.
   */
  private static long serverBytes() {
    long netty = PlatformDependent.usedDirectMemory();
    assertThat(netty).as("netty tracks its direct memory").isGreaterThanOrEqualTo(0);
    return netty;
  }

  private static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private ListAppender<ILoggingEvent> captureLogs() {
    ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger)
        LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ListAppender<ILoggingEvent> appender = new ListAppender<>();
    appender.start();
    root.addAppender(appender);
    open.add(() -> root.detachAppender(appender));
    return appender;
  }

  private static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }
}
