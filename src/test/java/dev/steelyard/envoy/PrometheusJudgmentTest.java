package dev.steelyard.envoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.demo.DemoWorkloads;
import dev.steelyard.demo.HttpProbe;
import dev.steelyard.demo.RoleBackend;
import dev.steelyard.judge.Classification;
import dev.steelyard.judge.Direction;
import dev.steelyard.judge.JudgeConfig;
import dev.steelyard.judge.MetricConfig;
import dev.steelyard.judge.MetricResult;
import dev.steelyard.judge.Outcome;
import dev.steelyard.judge.Query;
import dev.steelyard.judge.Thresholds;
import dev.steelyard.rollout.Analysis;
import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.FlowRequest;
import dev.steelyard.rollout.HistoryEntry;
import dev.steelyard.rollout.Judgment;
import dev.steelyard.rollout.Phase;
import dev.steelyard.rollout.RolloutEngine;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A canary three times as slow as the baseline, caught from Prometheus through real Envoy: the
 * demo's backends answer v1 in 10 ms and v2-slow in 30 ms; requests go through a real Envoy
 * gateway; a real Prometheus scrapes that Envoy's per-cluster request-time histograms every
 * second; the automatic judge compares the mean upstream request time of the baseline and
 * canary subset clusters over the step's window and rolls the deploy back.
 */
class PrometheusJudgmentTest {

  private static final AppKey APP = new AppKey("default", "hello-web");
  private static final String MEAN_REQUEST_TIME = "sum(rate(envoy_cluster_upstream_rq_time_sum"
      + "{envoy_cluster_name=\"${cluster}\"}[5s])) / sum(rate("
      + "envoy_cluster_upstream_rq_time_count{envoy_cluster_name=\"${cluster}\"}[5s]))";

  @Test
  void aCanaryThreeTimesAsSlowIsRolledBackFromPrometheusMetrics(@TempDir Path dir)
      throws Exception {
    Path envoyBinary = RealEnvoy.binaryOrSkip();
    Path prometheusBinary = RealPrometheus.binaryOrSkip();
    int gatewayPort = EnvoyMesh.freePort();
    int envoyAdmin = EnvoyMesh.freePort();
    List<Endpoint> main = List.of(new Endpoint("127.0.0.1", EnvoyMesh.freePort()),
        new Endpoint("127.0.0.1", EnvoyMesh.freePort()));
    try (DemoWorkloads workloads = DemoWorkloads.start(List.of(new AppSpec(APP, 8080,
            AppProtocol.HTTP, List.of("hello-web.example.com"), Map.of(SubsetRole.MAIN, main))),
            "judged demo", Map.of("v1", new RoleBackend.Faults(0, 10),
                "v2-slow", new RoleBackend.Faults(0, 30)));
        RealPrometheus prometheus = RealPrometheus.scrapingEnvoys(prometheusBinary,
            dir.resolve("prometheus"), List.of("127.0.0.1:" + envoyAdmin))) {
      ServerConfig config = ServerConfig.defaults(dir.resolve("data"))
          .withBindHost("127.0.0.1").withPorts(0, 0)
          .withTranslator(new TranslatorSettings(gatewayPort, EnvoyMesh.freePort()))
          .withHoldoff(Duration.ofMillis(10), Duration.ofMillis(100))
          .withAnalysis(ServerConfig.Analysis.DEFAULTS.withLoadInterval(Duration.ofSeconds(1))
              .withPrometheus(Optional.of(prometheus.url)));
      try (SteelyardServer server = new SteelyardServer(config, workloads)
              .withWorkloads(workloads).start();
          EnvoyProcess gateway = EnvoyProcess.start(envoyBinary,
              EnvoyBootstrap.local(ProxyKind.GATEWAY).withXds("127.0.0.1", server.xdsPort())
                  .withAdmin("127.0.0.1", envoyAdmin), "gateway-judged", dir.resolve("envoy"))
              .awaitReady(Duration.ofSeconds(30));
          HttpProbe http = new HttpProbe(16);
          SteadyLoad load = new SteadyLoad(http, gatewayPort, "hello-web.example.com", 8,
              System.nanoTime())) {
        RolloutEngine engine = server.rollouts().orElseThrow();
        MetricConfig latency = MetricConfig.of("request-time", "latency", Direction.INCREASE)
            .withCritical(true);
        latency = new MetricConfig(latency.name(), latency.group(), latency.direction(), true,
            latency.effectSize(), latency.nanStrategy(), false, latency.confidence(),
            new Query("prometheus", MEAN_REQUEST_TIME, null));
        Analysis analysis = new Analysis(0.05, 20L, new JudgeConfig(List.of(latency), Map.of(),
            Thresholds.DEFAULT), Duration.ofSeconds(1), Duration.ofSeconds(30), null, null, 8);
        engine.start(APP, new FlowRequest("deploy", "v2-slow", null, List.of(10.0, 50.0),
            new Judgment("automatic", null, Duration.ofSeconds(12), analysis), null, null, null,
            null, null, null, null), "test");

        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
            .until(() -> engine.latest(APP).orElseThrow().phase() == Phase.ROLLED_BACK);
        Flow flow = engine.latest(APP).orElseThrow();
        HistoryEntry verdict = flow.history().stream()
            .filter(entry -> entry.event().equals("judgment")).findFirst().orElseThrow();
        System.out.println("verdict: " + verdict.detail() + "\nload: " + load.describe());
        assertThat(verdict.detail()).startsWith("step 1: roll back");
        assertThat(verdict.evidence().metrics().outcome()).isEqualTo(Outcome.FAIL);
        MetricResult requestTime = verdict.evidence().metrics().metrics().get(0);
        assertThat(requestTime.classification()).isEqualTo(Classification.HIGH);
        double ratio = requestTime.canary().median() / requestTime.baseline().median();
        assertThat(ratio).as("canary/baseline mean request time, from Prometheus")
            .isBetween(2.0, 4.0);
        assertThat(verdict.evidence().samples().get("request-time").canary()).hasSizeGreaterThan(3);
        assertThat(verdict.evidence().reporters()).contains("gateway-judged");

        // The same step, judged again from its stored samples with a config that allows the
        // canary up to 5x the baseline's request time: it would have passed; the flow is as
        // it was.
        java.net.http.HttpResponse<String> rejudged = java.net.http.HttpClient.newHttpClient()
            .send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                + server.adminPort() + "/api/v1/apps/default/hello-web/rollout/history/1/rejudge"))
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("""
                    {"config": {"metrics": [{"name": "request-time", "group": "latency",
                      "direction": "increase", "critical": true,
                      "effectSize": {"allowedIncrease": 5, "allowedDecrease": 1,
                                     "criticalIncrease": 6, "criticalDecrease": 1}}]}}"""))
                .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        System.out.println("rejudged: " + rejudged.body());
        assertThat(rejudged.statusCode()).as(rejudged.body()).isEqualTo(200);
        assertThat(rejudged.body()).contains("\"changed\" : true")
            .contains("\"outcome\" : \"fail\"");
        var answer = dev.steelyard.rollout.FlowStore.JSON.readTree(rejudged.body());
        assertThat(answer.path("rejudged").path("outcome").asText()).isEqualTo("pass");
        assertThat(engine.latest(APP).orElseThrow()).isEqualTo(flow);
      }
    }
  }
}
