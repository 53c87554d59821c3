package dev.steelyard.envoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.steelyard.demo.HttpProbe;
import dev.steelyard.demo.RoleServiceDescriptor;
import dev.steelyard.demo.v1.StreamRequest;
import dev.steelyard.demo.v1.WhoAreYouReply;
import dev.steelyard.translate.ProxyKind;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.ClientCalls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the rollout engine and operators rely on, with real Envoys: ACKed means serving, long
 * requests and streams are not cut off, the proxies ride out a control plane restart, a
 * half-open connection is noticed, and how long a weight change takes to reach the traffic.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EnvoyLifecycleTest {

  private static final Duration KEEPALIVE = Duration.ofSeconds(2);

  private EnvoyMesh mesh;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    mesh = new EnvoyMesh(dir, KEEPALIVE);
    mesh.addApp("hello-app", "http", 2, 1, 1);
    mesh.addApp("hello-grpc", "grpc", 1, 1, 1);
    mesh.startServer();
    mesh.startEnvoys();
  }

  @AfterAll
  void stop() {
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  @Order(1)
  void onceTheRoutesOfANewAppAreAckedEveryRequestForItIsServed() throws Exception {
    mesh.addApp("late-app", "http", 1, 0, 0);
    mesh.writeApps();
    awaitAcked("late-app");
    HttpProbe.Result gateway = mesh.viaGateway("late-app", 200);
    HttpProbe.Result sidecar = mesh.viaSidecar("late-app", 200);
    System.out.println("[envoy] right after the ACK of late-app's routes: gateway "
        + gateway.counts() + ", sidecar " + sidecar.counts());
    assertThat(gateway.counts()).containsOnlyKeys("main");
    assertThat(sidecar.counts()).containsOnlyKeys("main");
  }

  @Test
  @Order(2)
  void onceAWeightIsAckedEveryRequestFollowsIt() throws Exception {
    for (int round = 0; round < 3; round++) {
      mesh.putSplit("hello-app", "{\"mode\":\"test\",\"canaryWeight\":100}");
      awaitAcked("hello-app");
      assertThat(mesh.viaGateway("hello-app", 100).counts()).containsOnlyKeys("canary");
      assertThat(mesh.viaSidecar("hello-app", 100).counts()).containsOnlyKeys("canary");
      mesh.putSplit("hello-app", "{\"mode\":\"test\",\"canaryWeight\":0}");
      awaitAcked("hello-app");
      assertThat(mesh.viaGateway("hello-app", 100).counts()).containsOnlyKeys("main");
      assertThat(mesh.viaSidecar("hello-app", 100).counts()).containsOnlyKeys("main");
    }
  }

  @Test
  @Order(3)
  void longRequestsAndStreamsCompleteThroughGatewayAndSidecar() throws Exception {
    mesh.putSplit("hello-app", "{\"mode\":\"off\",\"canaryWeight\":0}");
    CompletableFuture<String> slowGateway = mesh.http.send(mesh.gatewayPort,
        "hello-app.example.com", "/?delay_ms=20000", Duration.ofSeconds(40));
    CompletableFuture<String> slowSidecar = mesh.http.send(mesh.sidecarPort, "hello-app",
        "/?delay_ms=20000", Duration.ofSeconds(40));
    CompletableFuture<Integer> streamGateway = CompletableFuture.supplyAsync(() ->
        stream(mesh.gatewayPort, "hello-grpc.example.com"));
    CompletableFuture<Integer> streamSidecar = CompletableFuture.supplyAsync(() ->
        stream(mesh.sidecarPort, "hello-grpc"));
    long started = System.nanoTime();
    assertThat(slowGateway.get(40, TimeUnit.SECONDS)).isEqualTo("main");
    assertThat(slowSidecar.get(40, TimeUnit.SECONDS)).isEqualTo("main");
    assertThat(streamGateway.get(60, TimeUnit.SECONDS)).isEqualTo(30);
    assertThat(streamSidecar.get(60, TimeUnit.SECONDS)).isEqualTo(30);
    System.out.printf("[envoy] a 20 s request and a 30 s stream through the gateway and the "
        + "sidecar completed after %.1f s%n", (System.nanoTime() - started) / 1e9);
  }

  /** A 30 s server stream, one reply a second, through Envoy; returns the replies received. */
  private static int stream(int port, String authority) {
    ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port)
        .overrideAuthority(authority).usePlaintext().build();
    try {
      Iterator<WhoAreYouReply> replies = ClientCalls.blockingServerStreamingCall(channel,
          RoleServiceDescriptor.STREAM, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS),
          StreamRequest.newBuilder().setCount(30).setIntervalMillis(1000).build());
      int received = 0;
      while (replies.hasNext()) {
        replies.next();
        received++;
      }
      return received;
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  @Order(4)
  void envoyServesThroughAControlPlaneRestartAndIsSentNothingNew() throws Exception {
    mesh.putSplit("hello-app", "{\"mode\":\"deploy\",\"canaryWeight\":10}");
    awaitAcked("hello-app");
    Map<String, Long> before = configCounters(mesh.gateway);
    String versionsBefore = mesh.proxies().get("gateway-1").path("ackedVersions").toString();
    long started = System.nanoTime();
    try (SteadyLoad load = new SteadyLoad(mesh.http, mesh.gatewayPort,
        "hello-app.example.com", 4, started)) {
      mesh.stopServer();
      Thread.sleep(3000);
      int servedWhileAway = load.total();
      mesh.startServer();
      await().atMost(Duration.ofSeconds(30)).until(() -> mesh.proxies().containsKey("gateway-1")
          && mesh.proxies().get("gateway-1").path("ackedVersions").size() == 4);
      Thread.sleep(500);
      load.close();
      System.out.println("[envoy] through a control plane restart: " + load.describe()
          + "; served while it was down: " + servedWhileAway);
      assertThat(load.failed()).as(load.describe()).isZero();
      assertThat(servedWhileAway).isPositive();
    }
    assertThat(mesh.proxies().get("gateway-1").path("ackedVersions").toString())
        .isEqualTo(versionsBefore);
    assertThat(configCounters(mesh.gateway)).as("clusters and listeners added, modified or "
        + "removed by the reconnect").isEqualTo(before);
  }

  /** Envoy's own counts of clusters and listeners it added, changed or removed. */
  private static Map<String, Long> configCounters(EnvoyProcess envoy) throws Exception {
    Map<String, Long> counters = new TreeMap<>();
    String filter = java.net.URLEncoder.encode("^(cluster_manager|listener_manager)\\."
        + "(cluster|listener)_(added|modified|removed)$", java.nio.charset.StandardCharsets.UTF_8);
    for (String line : envoy.admin("/stats?filter=" + filter).body().lines().toList()) {
      String[] parts = line.split(": ");
      counters.put(parts[0], Long.parseLong(parts[1].strip()));
    }
    assertThat(counters).hasSize(6);
    return counters;
  }

  @Test
  @Order(5)
  void aHalfOpenConnectionIsDetectedAndTheProxyDropped() throws Exception {
    await().atMost(Duration.ofSeconds(10)).until(() -> mesh.proxies().containsKey("sidecar-1"));
    signal("STOP", mesh.sidecar.pid());
    long stopped = System.nanoTime();
    try {
      await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(100))
          .until(() -> !mesh.proxies().containsKey("sidecar-1"));
      System.out.printf("[envoy] a frozen sidecar left /api/v1/proxies after %.1f s "
          + "(keepalive %s)%n", (System.nanoTime() - stopped) / 1e9, KEEPALIVE);
    } finally {
      signal("CONT", mesh.sidecar.pid());
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> mesh.proxies().containsKey("sidecar-1"));
    awaitAcked("hello-app");
    assertThat(mesh.viaSidecar("hello-app", 100).failed()).isZero();
  }

  private static void signal(String signal, long pid) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start();
    assertThat(kill.waitFor()).isZero();
  }

  @Test
  @Order(6)
  void convergenceFromTheRestCallToTheFirstRequestRoutedByTheNewWeight() throws Exception {
    List<Long> gateway = new ArrayList<>();
    List<Long> sidecar = new ArrayList<>();
    for (int round = 0; round < 10; round++) {
      String to = round % 2 == 0 ? "canary" : "main";
      String split = "{\"mode\":\"test\",\"canaryWeight\":" + (to.equals("canary") ? 100 : 0)
          + "}";
      long start = System.nanoTime();
      CompletableFuture<Long> viaGateway = firstAnswerFrom(to, mesh.gatewayPort,
          "hello-app.example.com", start);
      CompletableFuture<Long> viaSidecar = firstAnswerFrom(to, mesh.sidecarPort, "hello-app",
          start);
      mesh.putSplit("hello-app", split);
      gateway.add(viaGateway.get(20, TimeUnit.SECONDS));
      sidecar.add(viaSidecar.get(20, TimeUnit.SECONDS));
      awaitAcked("hello-app");
    }
    System.out.println("[envoy] REST call to the first request routed by the new weight, "
        + "10 changes: gateway " + summary(gateway) + ", sidecar " + summary(sidecar));
  }

  /** Sends requests back to back until one is answered by {@code role}; ms since start. */
  private CompletableFuture<Long> firstAnswerFrom(String role, int port, String host,
      long start) {
    CompletableFuture<Long> first = new CompletableFuture<>();
    Thread sender = new Thread(() -> {
      while (System.nanoTime() - start < TimeUnit.SECONDS.toNanos(20)) {
        String outcome = mesh.http.send(port, host, "/", Duration.ofSeconds(5)).join();
        if (outcome.equals(role)) {
          first.complete(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
          return;
        }
      }
      first.completeExceptionally(new IllegalStateException("no request reached " + role
          + " within 20 s"));
    });
    sender.setDaemon(true);
    sender.start();
    return first;
  }

  @Test
  @Order(7)
  void anEnvoyWithTheWrongTokenIsRefusedAndIsNoProxy() throws Exception {
    JsonNode proxies = mesh.getJson("/api/v1/proxies").get("proxies");
    assertThat(proxies).isNotEmpty().allSatisfy(proxy -> {
      assertThat(proxy.get("authenticated").asBoolean()).isTrue();
      assertThat(proxy.get("authMethod").asText()).isEqualTo("token");
    });
    double refusedBefore = mesh.metric("steelyard_xds_auth_failures_total");
    try (EnvoyProcess impostor = EnvoyProcess.start(mesh.binary,
        EnvoyBootstrap.local(ProxyKind.GATEWAY).withXds("127.0.0.1", mesh.server.xdsPort())
            .withAdmin("127.0.0.1", EnvoyMesh.freePort())
            .withXdsToken(java.util.Optional.of("not-the-token")),
        "impostor", mesh.dir.resolve("impostor"))) {
      await().atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() ->
          mesh.metric("steelyard_xds_auth_failures_total") >= refusedBefore + 2);
      assertThat(mesh.getJson("/api/v1/proxies").get("proxies").findValuesAsText("nodeId"))
          .doesNotContain("impostor").contains("gateway-1", "sidecar-1");
      // Envoy logs the status the server closed its stream with.
      await().atMost(Duration.ofSeconds(5)).until(() -> impostor.tail(200)
          .contains("the bearer token is wrong"));
    }
  }

  private static String summary(List<Long> millis) {
    List<Long> sorted = millis.stream().sorted().toList();
    return String.format("p50 %d ms, max %d ms (%s)", sorted.get(sorted.size() / 2),
        sorted.get(sorted.size() - 1), millis);
  }

  /** Waits until every Envoy ACKed the app's routes (the app may not be there yet: 404). */
  private void awaitAcked(String app) {
    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(1)).ignoreExceptions()
        .until(() -> {
          JsonNode state = mesh.getJson("/api/v1/apps/default/" + app);
          return EnvoyMesh.allAcked(state, ProxyKind.GATEWAY)
              && EnvoyMesh.allAcked(state, ProxyKind.SIDECAR);
        });
  }
}
