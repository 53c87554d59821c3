package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.cli.SteelyardCommand;
import dev.steelyard.demo.v1.WhoAreYouReply;
import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.HistoryEntry;
import dev.steelyard.rollout.RoleStatus;
import dev.steelyard.view.SubsetRole;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Rollout flows end to end in demo mode: the engine sizes real local backends (DemoWorkloads),
 * sets splits, waits for the ACKs of grpc-java's own xDS client, and that client's RPCs show
 * where traffic goes at every step. Main starts with R = 4 replicas at v1.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RolloutDemoTest {

  private static final int RPCS = 5_000;
  private static final Duration FLOW_WAIT = Duration.ofSeconds(60);

  private DemoRollouts demo;
  private XdsTestClient client;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    demo = new DemoRollouts(dir, 4);
    client = new XdsTestClient(demo.xdsPort, "rollout-test-client", "hello-app");
  }

  @AfterAll
  void stop() {
    if (client != null) {
      client.close();
    }
    demo.close();
  }

  private record Run(int code, String out, String err) {}

  private Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = SteelyardCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    String[] all = java.util.stream.Stream.concat(java.util.Arrays.stream(args),
        java.util.stream.Stream.of("--admin", demo.admin())).toArray(String[]::new);
    int code = cli.execute(all);
    return new Run(code, out.toString(), err.toString());
  }

  private Map<String, Object> awaitFlow(Predicate<Map<String, Object>> condition) {
    Map<String, Object>[] seen = new Map[1];
    await().atMost(FLOW_WAIT).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
        .until(() -> {
          seen[0] = demo.flow();
          return condition.test(seen[0]);
        });
    return seen[0];
  }

  private static Predicate<Map<String, Object>> judging(int step) {
    return flow -> "step-judging".equals(flow.get("phase")) && flow.get("step").equals(step)
        && flow.get("waitingFor").toString().contains("approval");
  }

  private static Predicate<Map<String, Object>> phase(String phase) {
    return flow -> phase.equals(flow.get("phase"));
  }

  private RoleStatus role(SubsetRole role) {
    return demo.workloads.status(DemoRollouts.APP, role);
  }

  private void assertAllMainAt(String version) {
    assertThat(client.countVersions(RPCS)).containsExactly(Map.entry("main@" + version, RPCS));
  }

  @Test
  @Order(1)
  void healthyDeployWalksItsStepsWithRestApprovalsAndIsPromoted() throws Exception {
    assertAllMainAt("v1");
    HttpResponse<String> started = demo.send("POST", demo.rolloutPath(),
        "{\"kind\":\"deploy\",\"version\":\"v2\"}");
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    double[] steps = {1, 10, 25, 50};
    int[][] replicas = {{4, 1, 1}, {4, 1, 1}, {3, 2, 2}, {1, 3, 3}};
    for (int i = 0; i < steps.length; i++) {
      Map<String, Object> flow = awaitFlow(judging(i + 1));
      double n = steps[i] / 100;
      Map<String, Integer> counts = client.count(RPCS);
      System.out.println("step " + (i + 1) + " (" + steps[i] + " %): " + counts);
      Binomial.assertSplit(counts, RPCS, 1 - 2 * n, n, n);
      assertThat(role(SubsetRole.MAIN)).isEqualTo(new RoleStatus("v1", replicas[i][0],
          replicas[i][0]));
      assertThat(role(SubsetRole.BASELINE)).isEqualTo(new RoleStatus("v1", replicas[i][1],
          replicas[i][1]));
      assertThat(role(SubsetRole.CANARY)).isEqualTo(new RoleStatus("v2", replicas[i][2],
          replicas[i][2]));
      assertThat(flow.get("waitingFor").toString()).contains("approval of step " + (i + 1));
      assertThat(((Map<?, ?>) flow.get("weights")).get("acks")).isEqualTo("grpc 1/1");
      if (i == 1) {
        HttpResponse<String> refused = demo.send("PUT", "/api/v1/apps/default/hello-app/split",
            "{\"mode\":\"off\"}");
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(refused.body()).contains("owns the split of default/hello-app");
        HttpResponse<String> second = demo.send("POST", demo.rolloutPath(),
            "{\"kind\":\"test\",\"version\":\"v9\",\"weight\":5}");
        assertThat(second.statusCode()).isEqualTo(409);
        assertThat(second.body()).contains("one flow per app");
      }
      HttpResponse<String> approved = demo.send("POST", demo.rolloutPath() + "/approve", null);
      assertThat(approved.statusCode()).as(approved.body()).isEqualTo(200);
      HttpResponse<String> again = demo.send("POST", demo.rolloutPath() + "/approve", null);
      assertThat(again.statusCode()).as("no gate open after approval").isEqualTo(409);
    }
    awaitFlow(phase("promoted"));
    assertAllMainAt("v2");
    assertThat(role(SubsetRole.MAIN)).isEqualTo(new RoleStatus("v2", 4, 4));
    assertThat(role(SubsetRole.BASELINE).replicas()).isZero();
    assertThat(role(SubsetRole.CANARY).replicas()).isZero();
  }

  @Test
  @Order(2)
  void rollbackAfterPromotionIsOneCallAndRunsTheOldVersionFirst() throws Exception {
    Run rollback = cli("rollout", "rollback", "hello-app");
    assertThat(rollback.code()).as(rollback.err()).isZero();
    awaitFlow(phase("rolled-back"));
    assertAllMainAt("v1");
    assertThat(role(SubsetRole.MAIN)).isEqualTo(new RoleStatus("v1", 4, 4));
    assertThat(role(SubsetRole.BASELINE).replicas()).isZero();
  }

  @Test
  @Order(3)
  void rollbackAtTheSecondStepSendsNothingToTheCanaryOnceItsFirstPushIsAcked()
      throws Exception {
    Run start = cli("rollout", "start", "hello-app", "v3", "--steps", "10,25");
    assertThat(start.code()).as(start.err()).isZero();
    assertThat(start.out()).contains("default/hello-app  deploy v1 -> v3");
    awaitFlow(judging(1));
    Binomial.assertSplit(client.count(RPCS), RPCS, 0.8, 0.1, 0.1);
    assertThat(cli("rollout", "approve", "hello-app").code()).isZero();
    awaitFlow(judging(2));
    Run status = cli("rollout", "status", "hello-app");
    assertThat(status.out()).contains("phase step-judging  step 2 of 2 (steps 10, 25 %)")
        .contains("set 50/25/25").containsPattern("canary\\s+2 x v3");

    record Answer(Instant at, WhoAreYouReply reply) {}
    List<Answer> answers = new CopyOnWriteArrayList<>();
    AtomicBoolean running = new AtomicBoolean(true);
    Thread load = new Thread(() -> {
      while (running.get()) {
        Instant at = Instant.now();
        answers.add(new Answer(at, client.reply()));
      }
    });
    load.start();
    Thread.sleep(300);
    Run rollback = cli("rollout", "rollback", "hello-app");
    assertThat(rollback.code()).as(rollback.err()).isZero();
    assertThat(cli("rollout", "rollback", "hello-app").code()).as("safe to repeat").isZero();
    awaitFlow(phase("rolled-back"));
    Thread.sleep(300);
    running.set(false);
    load.join();

    Flow flow = demo.server.rollouts().orElseThrow().latest(DemoRollouts.APP).orElseThrow();
    Instant shiftAcked = at(flow, "phase", "rollback-shift -> rollback-restore");
    Instant mainRestoredTarget = at(flow, "scale", "main 3 x v1 -> 4 x v1");
    Instant offSet = at(flow, "weight", "-> off");
    assertThat(mainRestoredTarget).isAfterOrEqualTo(shiftAcked);
    assertThat(offSet).isAfter(mainRestoredTarget);
    long canaryAfterAck = answers.stream().filter(a -> a.at().isAfter(shiftAcked))
        .filter(a -> a.reply().getRole().equals("canary")).count();
    long baselineBeforeOff = answers.stream().filter(a -> a.at().isAfter(shiftAcked)
        && a.at().isBefore(offSet) && a.reply().getRole().equals("baseline")).count();
    long canaryBefore = answers.stream().filter(a -> a.at().isBefore(
        at(flow, "rollback", "rollback requested"))).filter(a -> a.reply().getRole()
        .equals("canary")).count();
    System.out.println("rollback: " + answers.size() + " RPCs; canary before the rollback "
        + canaryBefore + ", after the shift's ACK " + canaryAfterAck + "; baseline between the "
        + "shift's ACK and main taking 100 %: " + baselineBeforeOff);
    assertThat(canaryBefore).isPositive();
    assertThat(canaryAfterAck).isZero();
    assertThat(baselineBeforeOff).as("main took 100 % only after it was restored").isPositive();
    assertAllMainAt("v1");
    assertThat(role(SubsetRole.MAIN)).isEqualTo(new RoleStatus("v1", 4, 4));
    assertThat(role(SubsetRole.CANARY).replicas()).isZero();

    Run history = cli("rollout", "history", "hello-app");
    assertThat(history.out()).contains("rollback requested").contains("rolled back: main runs v1")
        .contains("acks grpc 1/1");
  }

  private static Instant at(Flow flow, String event, String detail) {
    return flow.history().stream().filter(e -> e.event().equals(event)
        && e.detail().contains(detail)).map(HistoryEntry::at).findFirst()
        .orElseThrow(() -> new AssertionError("no " + event + " '" + detail + "' in "
            + flow.history()));
  }

  @Test
  @Order(4)
  void canaryTestFollowsItsWeightsAndRemovesTheCanaryAtZero() throws Exception {
    Run start = cli("canary-test", "start", "hello-app", "v4", "--weight", "5");
    assertThat(start.code()).as(start.err()).isZero();
    awaitFlow(phase("test-running"));
    Binomial.assertSplit(client.count(RPCS), RPCS, 0.95, 0, 0.05);
    Run tooMuch = cli("canary-test", "set", "hello-app", "60");
    assertThat(tooMuch.code()).isEqualTo(2);
    assertThat(tooMuch.err()).contains("above the cap of 50 %");
    assertThat(cli("canary-test", "set", "hello-app", "20").code()).isZero();
    awaitFlow(flow -> phase("test-running").test(flow) && flow.get("weight").equals(20.0));
    Binomial.assertSplit(client.count(RPCS), RPCS, 0.8, 0, 0.2);
    assertThat(cli("canary-test", "set", "hello-app", "0").code()).isZero();
    awaitFlow(phase("test-ended"));
    assertAllMainAt("v1");
    assertThat(role(SubsetRole.CANARY).replicas()).isZero();
  }

  @Test
  @Order(5)
  void badInputIsRefusedAndChangesNothing() throws Exception {
    String before = demo.flow().get("id").toString();
    assertThat(demo.send("POST", "/api/v1/apps/default/nope/rollout",
        "{\"kind\":\"deploy\",\"version\":\"v2\"}").statusCode()).isEqualTo(404);
    HttpResponse<String> decreasing = demo.send("POST", demo.rolloutPath(),
        "{\"kind\":\"deploy\",\"version\":\"v2\",\"steps\":[10,5]}");
    assertThat(decreasing.statusCode()).isEqualTo(400);
    assertThat(decreasing.body()).contains("increasing");
    assertThat(demo.send("POST", demo.rolloutPath(),
        "{\"kind\":\"deploy\",\"version\":\"v2\",\"steps\":[10,60]}").statusCode())
        .isEqualTo(400);
    assertThat(demo.send("POST", demo.rolloutPath(),
        "{\"kind\":\"deploy\",\"version\":\"v2\",\"stepz\":[10]}").body())
        .contains("malformed request");
    // The strict JSON rules of a split hold here too: a duplicate key is not "last wins".
    HttpResponse<String> duplicate = demo.send("POST", demo.rolloutPath(),
        "{\"kind\":\"deploy\",\"kind\":\"test\",\"version\":\"v2\"}");
    assertThat(duplicate.statusCode()).isEqualTo(400);
    assertThat(duplicate.body()).contains("Duplicate field 'kind'");
    assertThat(demo.send("POST", demo.rolloutPath() + "/approve", null).statusCode())
        .isEqualTo(404);
    assertThat(demo.send("POST", demo.rolloutPath(),
        "{\"kind\":\"test\",\"version\":\"v2\",\"weight\":51}").statusCode()).isEqualTo(400);
    assertThat(demo.flow().get("id")).isEqualTo(before);
    assertThat(demo.server.rollouts().orElseThrow().active(DemoRollouts.APP)).isEmpty();
  }

  @Test
  @Order(6)
  void aRestartInTheMiddleOfAStepResumesAndFinishes() throws Exception {
    HttpResponse<String> started = demo.send("POST", demo.rolloutPath(),
        "{\"kind\":\"deploy\",\"version\":\"v5\",\"steps\":[20],\"postPromotionWindow\":\"PT1S\"}");
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    awaitFlow(judging(1));
    demo.stopServer();
    demo.start();
    Map<String, Object> resumed = awaitFlow(judging(1));
    assertThat(resumed.get("version")).isEqualTo("v5");
    // The client keeps its config while it reconnects, and a flow waits only for the proxies
    // connected to this server: approve once the client is back, as an operator watching
    // the proxies would (otherwise the promotion is not waited for on this client).
    await().atMost(Duration.ofSeconds(30)).until(() -> !demo.server.proxies().proxies().isEmpty());
    Binomial.assertSplit(client.count(RPCS), RPCS, 0.6, 0.2, 0.2);
    assertThat(demo.send("POST", demo.rolloutPath() + "/approve", null).statusCode())
        .isEqualTo(200);
    awaitFlow(phase("completed"));
    assertAllMainAt("v5");
    assertThat(role(SubsetRole.CANARY).replicas()).isZero();

    // Flows by phase come from the store (every kept flow of this class); the timers count
    // since the restart.
    String metrics = demo.send("GET", "/metrics", null).body();
    assertThat(metrics).contains("steelyard_rollout_flows{phase=\"completed\"} 1.0")
        .contains("steelyard_rollout_flows{phase=\"rolled-back\"} 2.0")
        .contains("steelyard_rollout_flows{phase=\"test-ended\"} 1.0")
        .containsPattern("steelyard_rollout_ack_latency_seconds_count [1-9]")
        .containsPattern("steelyard_rollout_step_duration_seconds_count [1-9]")
        .contains("steelyard_rollout_rollbacks_total 0.0");
  }
}
