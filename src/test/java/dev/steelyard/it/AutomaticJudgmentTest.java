package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.demo.RoleBackend;
import dev.steelyard.rollout.FlowStore;
import dev.steelyard.server.ServerConfig;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Automatic judgment end to end in demo mode: grpc-java's own xDS clients send RPCs without
 * pause and report their load (LRS) to the control plane every second; the demo's backends of
 * version {@code v2-bad} fail 20 % of their RPCs. A deploy of {@code v2-bad} is rolled back by
 * the judge at its first step; a deploy of {@code v2} walks every step on automatic judgments
 * alone and is promoted.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AutomaticJudgmentTest {

  private DemoRollouts demo;
  private XdsTestClient client;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong calls = new AtomicLong();
  private final AtomicLong failures = new AtomicLong();
  private Thread load;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    demo = new DemoRollouts(dir, 4, Map.of("v2-bad", new RoleBackend.Faults(0.2, 0)),
        config -> config.withAnalysis(ServerConfig.Analysis.DEFAULTS
            .withLoadInterval(Duration.ofSeconds(1))));
    client = new XdsTestClient(demo.xdsPort, "judged-client", "hello-app");
    load = new Thread(() -> {
      while (running.get()) {
        try {
          client.call();
        } catch (RuntimeException e) {
          failures.incrementAndGet();
        }
        calls.incrementAndGet();
      }
    }, "judged-client-load");
    load.start();
  }

  @AfterAll
  void stop() throws InterruptedException {
    running.set(false);
    if (load != null) {
      load.join(10_000);
    }
    if (client != null) {
      client.close();
    }
    demo.close();
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> get(String path) throws Exception {
    HttpResponse<String> response = demo.send("GET", path, null);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return FlowStore.JSON.readValue(response.body(), Map.class);
  }

  private Map<String, Object> awaitFlow(Predicate<Map<String, Object>> condition,
      Duration atMost) {
    Map<String, Object>[] seen = new Map[1];
    await().atMost(atMost).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .until(() -> {
          seen[0] = demo.flow();
          return condition.test(seen[0]);
        });
    return seen[0];
  }

  @SuppressWarnings("unchecked")
  private List<Map<String, Object>> judgments() throws Exception {
    List<Map<String, Object>> history = (List<Map<String, Object>>) get(demo.rolloutPath()
        + "/history").get("history");
    return history.stream().filter(entry -> entry.get("event").equals("judgment")).toList();
  }

  @Test
  @Order(1)
  @SuppressWarnings("unchecked")
  void theClientsLoadReportsReachTheAdminApiAndMetrics() throws Exception {
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
        .ignoreExceptions().untilAsserted(() -> {
          Map<String, Object> main = (Map<String, Object>) ((Map<String, Object>) get(
              "/api/v1/apps/default/hello-app/load?window=1m").get("roles")).get("main");
          assertThat(((Number) main.get("succeeded")).longValue()).isGreaterThan(100);
          assertThat((List<String>) main.get("reporters")).contains("judged-client");
        });
    HttpResponse<String> metrics = demo.send("GET", "/metrics", null);
    assertThat(metrics.body()).containsPattern("steelyard_load_requests_total\\{app=\"hello-app\","
        + "namespace=\"default\",outcome=\"success\",role=\"main\"\\} [1-9]");
    HttpResponse<String> unknown = demo.send("GET", "/api/v1/apps/default/nope/load", null);
    assertThat(unknown.statusCode()).isEqualTo(404);
    HttpResponse<String> badWindow = demo.send("GET",
        "/api/v1/apps/default/hello-app/load?window=forever", null);
    assertThat(badWindow.statusCode()).isEqualTo(400);
    assertThat(badWindow.body()).contains("window");

    // The standalone judge reads the same reports over a window: main against itself.
    HttpResponse<String> judged = demo.send("POST", "/api/v1/judge", """
        {"config": {"metrics": [{"name": "finished", "group": "load", "direction": "either",
                                 "query": {"source": "load", "measure": "requests"}}]},
         "window": {"app": "default/hello-app", "last": "PT30S"}}""");
    assertThat(judged.statusCode()).as(judged.body()).isEqualTo(200);
    assertThat(judged.body()).contains("\"name\" : \"finished\"");
  }

  @Test
  @Order(2)
  @SuppressWarnings("unchecked")
  void aCanaryFailingOneRequestInFiveIsRolledBackAtTheFirstStep() throws Exception {
    HttpResponse<String> started = demo.send("POST", demo.rolloutPath(), """
        {"kind": "deploy", "version": "v2-bad",
         "judgment": {"type": "automatic", "window": "PT60S",
                      "analysis": {"minRequests": 50}}}""");
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    Map<String, Object> flow = awaitFlow(f -> "rolled-back".equals(f.get("phase")),
        Duration.ofSeconds(90));
    assertThat(flow.get("step")).isEqualTo(1);
    List<Map<String, Object>> judgments = judgments();
    assertThat(judgments).hasSize(1);
    Map<String, Object> verdict = judgments.get(0);
    System.out.println("verdict: " + verdict.get("detail"));
    assertThat(verdict.get("detail").toString()).startsWith("step 1: roll back (step 1 (1 %): "
        + "canary error rate is higher");
    Map<String, Object> evidence = (Map<String, Object>) verdict.get("evidence");
    Map<String, Object> errors = (Map<String, Object>) evidence.get("errors");
    assertThat(errors.get("outcome")).isEqualTo("CANARY_WORSE");
    assertThat(((Number) errors.get("canaryErrors")).longValue()).isPositive();
    assertThat(((Number) errors.get("alwaysValidP")).doubleValue()).isLessThanOrEqualTo(0.05);
    assertThat((List<String>) evidence.get("reporters")).contains("judged-client");
    // The window began at the canary's first reported traffic, after the step's ACK.
    assertThat(evidence.get("from").toString()).isGreaterThanOrEqualTo(
        evidence.get("acked").toString().substring(0, 19));
  }

  @Test
  @Order(3)
  void aBadMetricConfigurationIsRefusedWithWhereTheProblemIs() throws Exception {
    HttpResponse<String> refused = demo.send("POST", demo.rolloutPath(), """
        {"kind": "deploy", "version": "v2",
         "judgment": {"type": "automatic", "window": "PT3S",
                      "analysis": {"metrics": {"metrics": [
                        {"name": "e", "group": "g", "direction": "up"}]}}}}""");
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(refused.body()).contains("judgment.analysis.metrics.metrics[0].direction: "
        + "expected one of increase, decrease, either");
    HttpResponse<String> noSource = demo.send("POST", demo.rolloutPath(), """
        {"kind": "deploy", "version": "v2",
         "judgment": {"type": "automatic", "window": "PT3S",
                      "analysis": {"metrics": {"metrics": [
                        {"name": "p99", "group": "g", "direction": "increase",
                         "query": {"source": "prometheus", "template": "up"}}]}}}}""");
    assertThat(noSource.statusCode()).isEqualTo(400);
    assertThat(noSource.body()).contains("no --prometheus URL");
  }

  @Test
  @Order(4)
  void aHealthyCanaryWalksEveryStepOnAutomaticJudgmentsAndIsPromoted() throws Exception {
    HttpResponse<String> started = demo.send("POST", demo.rolloutPath(), """
        {"kind": "deploy", "version": "v2",
         "judgment": {"type": "automatic", "window": "PT3S",
                      "analysis": {"minRequests": 30, "interval": "PT1S", "minSamples": 3,
                                   "metrics": {"metrics": [
                                     {"name": "error-rate", "group": "errors",
                                      "direction": "increase", "nanStrategy": "replace",
                                      "query": {"source": "load",
                                                "measure": "error_rate"}}]}}}}""");
    assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
    awaitFlow(f -> "promoted".equals(f.get("phase")), Duration.ofSeconds(120));
    Object id = demo.flow().get("id");
    List<Map<String, Object>> judgments = judgments().stream()
        .filter(entry -> entry.get("flowId").equals(id)).toList();
    assertThat(judgments).hasSize(4);
    for (Map<String, Object> judgment : judgments) {
      assertThat(judgment.get("detail").toString()).contains(": continue (")
          .contains("score 100.0 (pass)").contains("no evidence that the canary is worse");
      assertThat(judgment.get("by")).isEqualTo("judge automatic");
      assertThat(judgment.get("evidence")).isNotNull();
    }
  }
}
