package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.JsonFormat;
import dev.steelyard.admin.v1.AppState;
import dev.steelyard.admin.v1.SubsetState;
import dev.steelyard.demo.ProbeRun;
import dev.steelyard.demo.RoleBackend;
import dev.steelyard.demo.SplitProbe;
import dev.steelyard.view.SubsetRole;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Health checking of file-mode endpoints: a canary backend closed while a real gRPC xDS client
 * sends requests leaves its subset, its share goes to main, the client's failures stop, and the
 * endpoint rejoins when it answers again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HealthCheckTest {

  private static final Duration INTERVAL = Duration.ofMillis(200);

  private TestMesh mesh;
  private ManagedChannel channel;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    mesh = new TestMesh(dir, new int[] {1, 1, 1}, Optional.empty(),
        "    healthCheck: {type: tcp, interval: 200ms, timeout: 200ms, unhealthyThreshold: 2, "
            + "healthyThreshold: 1}\n");
    assertThat(mesh.putSplit("{\"mode\":\"deploy\",\"canaryWeight\":10}").statusCode())
        .isEqualTo(200);
    channel = SplitProbe.channel("hello-app", "127.0.0.1:" + mesh.server.xdsPort(),
        "health-check-client");
    SplitProbe.awaitSettled(channel, Duration.ofSeconds(10));
  }

  @AfterAll
  void stop() {
    SplitProbe.close(channel);
    mesh.close();
  }

  private ProbeRun.Tally send(int requests) throws InterruptedException {
    ProbeRun run = new ProbeRun(requests);
    run.send(8, () -> SplitProbe.send(channel, Duration.ofSeconds(1)));
    return run.tally();
  }

  private static int count(ProbeRun.Tally tally, String role) {
    return tally.rows().stream().filter(row -> row.key().equals(role))
        .mapToInt(ProbeRun.Row::requests).sum();
  }

  private AppState state() throws Exception {
    AppState.Builder state = AppState.newBuilder();
    JsonFormat.parser().merge(mesh.get("/api/v1/apps/default/hello-app").body(), state);
    return state.build();
  }

  private static double effectiveCanary(AppState state) {
    return state.getSubsetsList().stream().filter(s -> s.getRole().equals("canary"))
        .mapToDouble(SubsetState::getEffectiveMeshWeight).findFirst().orElseThrow();
  }

  @Test
  void aDeadEndpointLeavesItsSubsetAndTheClientsFailuresStop() throws Exception {
    ProbeRun.Tally healthy = send(300);
    assertThat(healthy.failed()).isZero();
    assertThat(count(healthy, "canary")).isPositive();

    RoleBackend canary = mesh.backends.get(SubsetRole.CANARY).get(0);
    int port = canary.port();
    canary.close();
    // Two failed checks 200 ms apart, then a publish; generous for a loaded machine.
    await().atMost(Duration.ofSeconds(10)).pollInterval(INTERVAL).untilAsserted(() -> {
      AppState state = state();
      assertThat(effectiveCanary(state)).isZero();
      assertThat(state.getNoticesList())
          .anySatisfy(notice -> assertThat(notice).startsWith("health: canary endpoint "
              + "127.0.0.1:" + port + " is unhealthy (tcp connect: Connection refused"))
          .anySatisfy(notice -> assertThat(notice)
              .isEqualTo("mesh: canary has no ready endpoints; its 10.0 % goes to main"));
    });
    assertThat(state().getSubsetsList()).filteredOn(s -> s.getRole().equals("canary"))
        .singleElement().satisfies(s -> assertThat(s.getEndpointsList()).isEmpty());

    // Once the client has the new routes, the failed-request count stops growing.
    await().atMost(Duration.ofSeconds(10)).until(() -> send(50).failed() == 0);
    ProbeRun.Tally after = send(1000);
    assertThat(after.failed()).isZero();
    assertThat(count(after, "canary")).isZero();
    assertThat(count(after, "baseline")).isPositive();

    RoleBackend back = RoleBackend.start("hello-app", SubsetRole.CANARY, "127.0.0.1", port);
    mesh.backends.get(SubsetRole.CANARY).set(0, back);
    await().atMost(Duration.ofSeconds(10)).pollInterval(INTERVAL)
        .until(() -> effectiveCanary(state()) == 10.0 && state().getNoticesCount() == 0);
    await().atMost(Duration.ofSeconds(10)).until(() -> count(send(200), "canary") > 0);
  }
}
