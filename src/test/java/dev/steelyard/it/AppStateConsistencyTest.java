package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.steelyard.admin.v1.AppState;
import dev.steelyard.admin.v1.RolloutProgress;
import dev.steelyard.admin.v1.SetSplitRequest;
import dev.steelyard.admin.v1.Split;
import dev.steelyard.admin.v1.SubsetState;
import dev.steelyard.feedback.ProxyStatus;
import dev.steelyard.publish.PublishedState;
import dev.steelyard.split.InvalidSplitException;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.split.SplitProtos;
import dev.steelyard.status.RoutesVersions;
import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetWeights;
import dev.steelyard.xds.XdsType;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19 for the admin API in file mode: an app state read while splits change is one
 * published picture. The split it shows has the weights and routes versions that split was
 * published with, and "every proxy ACKed" means the connected gRPC client holds those routes.
 */
class AppStateConsistencyTest {

  private static final AppKey HELLO = new AppKey("default", "hello-app");
  private static final String APP = "/api/v1/apps/default/hello-app";
  private static final int CHANGES = 40;

  /** What one published split produced: its state and routes versions per proxy kind. */
  private record Produced(PublishedState state, Map<String, String> routes) {}

  /** One read; {@code steady} when no PUT was under way meanwhile (so no newer split existed). */
  private record Observation(String source, String body, boolean steady, String newestBody,
      Optional<ProxyStatus> proxy) {}

  private TestMesh mesh;
  private XdsTestClient client;
  private final Map<List<SubsetWeights>, Produced> produced = new ConcurrentHashMap<>();
  private final List<Observation> observations = new CopyOnWriteArrayList<>();
  /** Odd while a PUT is under way. */
  private final AtomicLong puts = new AtomicLong();
  private volatile String newestBody = "";
  private volatile boolean polling = true;

  @BeforeEach
  void start(@TempDir Path dir) throws Exception {
    mesh = new TestMesh(dir, new int[] {1, 1, 1}, Optional.empty());
    mesh.server.publisher().onPublished(this::record);
    record(mesh.server.publisher().current());
    client = new XdsTestClient(mesh.server.xdsPort(), "app-state-client", "hello-app");
    client.call();
  }

  @AfterEach
  void stop() {
    polling = false;
    client.close();
    mesh.close();
  }

  private void record(PublishedState state) {
    state.view().app(HELLO).ifPresent(app -> {
      Map<String, String> routes = new TreeMap<>();
      RoutesVersions.of(HELLO, state)
          .forEach((kind, version) -> routes.put(kind.label(), version));
      produced.putIfAbsent(List.of(app.mesh().set(), app.gateway().set()),
          new Produced(state, routes));
    });
  }

  private static String body(int change) {
    String mesh = change % 2 == 0
        ? "\"mode\":\"test\",\"canaryWeight\":" + (1 + change)
        : "\"mode\":\"deploy\",\"canaryWeight\":" + (1 + change % 49);
    String gateway = change % 3 == 0
        ? ",\"gateway\":{\"mode\":\"deploy\",\"canaryWeight\":" + (2 + change % 40) + "}"
        : ",\"gatewayFollowsMesh\":true";
    return "{" + mesh + gateway + "}";
  }

  private void poll() {
    while (polling) {
      long before = puts.get();
      String newest = newestBody;
      try {
        HttpResponse<String> response = mesh.get(APP);
        Optional<ProxyStatus> proxy = mesh.server.proxies().proxies().stream()
            .filter(p -> p.kind() == ProxyKind.GRPC).findFirst();
        boolean steady = before == puts.get() && before % 2 == 0;
        if (response.statusCode() == 200) {
          observations.add(new Observation("GET", response.body(), steady, newest, proxy));
        }
        Thread.sleep(1);
      } catch (InterruptedException e) {
        return;
      } catch (java.io.IOException e) {
        // The server is stopping; the loop ends with polling.
      }
    }
  }

  @Test
  void everyAppStateReadIsOnePublishedPicture() throws Exception {
    Thread thread = new Thread(this::poll, "app-state-poller");
    thread.setDaemon(true);
    thread.start();
    try {
      for (int change = 0; change < CHANGES; change++) {
        String body = body(change);
        puts.incrementAndGet();
        HttpResponse<String> response;
        try {
          response = mesh.putSplit(body);
          newestBody = body;
        } finally {
          puts.incrementAndGet();
        }
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        observations.add(new Observation("PUT " + body, response.body(), false, body,
            Optional.empty()));
        if (change % 4 != 3) {
          // Most changes wait until the client ACKed them; every fourth is followed at once.
          await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(5))
              .until(() -> allAcked(state(mesh.get(APP).body())));
        }
      }
    } finally {
      polling = false;
      thread.join(5000);
    }

    List<String> violations = new ArrayList<>();
    int judgedAcked = 0;
    for (Observation observation : observations) {
      AppState state = state(observation.body());
      String where = observation.source() + " " + observation.body().replaceAll("\\s+", " ")
          + ": ";
      SubsetWeights meshSplit = SplitProtos.fromProto(state.getMeshSplit()).weights();
      SubsetWeights gatewaySplit = SplitProtos.fromProto(state.getGatewaySplit()).weights();
      if (!meshSplit.equals(weights(state, false, false))
          || !meshSplit.equals(weights(state, false, true))
          || !gatewaySplit.equals(weights(state, true, false))
          || !gatewaySplit.equals(weights(state, true, true))) {
        violations.add(where + "the subsets' weights are not those of the splits shown");
      }
      Produced expected = produced.get(List.of(meshSplit, gatewaySplit));
      if (expected == null) {
        violations.add(where + "this split was never published");
        continue;
      }
      Map<String, String> routes = new TreeMap<>();
      for (RolloutProgress progress : state.getProgressList()) {
        routes.put(progress.getProxyKind(), progress.getRoutesVersion());
      }
      if (!expected.routes().equals(routes)) {
        violations.add(where + "routes versions are not those of the split shown "
            + expected.routes());
      }
      if (observation.source().startsWith("PUT ")) {
        if (!meshSplitOf(observation.newestBody()).equals(state.getMeshSplit())) {
          violations.add(where + "the answer to a PUT does not show the split it set");
        }
      }
      if (observation.steady() && allAcked(state)
          && sameSplit(state, observation.newestBody())) {
        judgedAcked++;
        boolean holds = observation.proxy().isPresent()
            && observation.proxy().get().hasApplied(
                expected.state().snapshots().get(ProxyGroup.all(ProxyKind.GRPC)), XdsType.ROUTES);
        if (!holds) {
          violations.add(where + "every proxy ACKed, but the proxy held "
              + observation.proxy().map(ProxyStatus::ackedVersions));
        }
      }
    }
    assertThat(observations).hasSizeGreaterThan(2 * CHANGES);
    assertThat(judgedAcked).isGreaterThan(0);
    assertThat(violations).as("%d violations in %d app state reads", violations.size(),
        observations.size()).isEmpty();
  }

  private static boolean allAcked(AppState state) {
    return state.getProgressList().stream().anyMatch(p -> p.getProxyKind().equals("grpc")
        && p.getProxiesConnected() >= 1 && p.getProxiesAcked() == p.getProxiesConnected());
  }

  /** Whether the state shows the mesh split of the PUT body {@code newest}. */
  private static boolean sameSplit(AppState state, String newest) throws Exception {
    return !newest.isEmpty() && meshSplitOf(newest).equals(state.getMeshSplit());
  }

  private static AppState state(String json) throws InvalidProtocolBufferException {
    AppState.Builder builder = AppState.newBuilder();
    JsonFormat.parser().merge(json, builder);
    return builder.build();
  }

  /** The mesh split a PUT body sets, as an app state shows it. */
  private static Split meshSplitOf(String putBody)
      throws InvalidProtocolBufferException, InvalidSplitException {
    SetSplitRequest.Builder request = SetSplitRequest.newBuilder();
    JsonFormat.parser().merge(putBody, request);
    return SplitProtos.toProto(SplitPolicy.of(request.getMode(), request.getCanaryWeight()));
  }

  private static SubsetWeights weights(AppState state, boolean gateway, boolean effective) {
    int[] basisPoints = new int[3];
    for (SubsetState subset : state.getSubsetsList()) {
      double percent = gateway
          ? (effective ? subset.getEffectiveGatewayWeight() : subset.getGatewayWeight())
          : (effective ? subset.getEffectiveMeshWeight() : subset.getMeshWeight());
      int index = switch (subset.getRole()) {
        case "main" -> 0;
        case "baseline" -> 1;
        default -> 2;
      };
      basisPoints[index] = (int) Math.round(percent * 100);
    }
    return new SubsetWeights(basisPoints[0], basisPoints[1], basisPoints[2]);
  }
}
