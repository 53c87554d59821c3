package dev.steelyard.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.judge.CanaryJudge;
import dev.steelyard.judge.Direction;
import dev.steelyard.judge.JudgeConfig;
import dev.steelyard.judge.JudgeResult;
import dev.steelyard.judge.MetricConfig;
import dev.steelyard.judge.Query;
import dev.steelyard.judge.Samples;
import dev.steelyard.judge.SequentialCountTest;
import dev.steelyard.judge.Thresholds;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A flow judged automatically survives a restart whole: its analysis configuration and every
 * verdict's evidence (statistics, NaN samples and all) are read back from the flow file as they
 * were written, and a HOLD verdict is logged once, however often the judge repeats it.
 */
class AutomaticFlowStoreTest {

  private static final AppKey APP = new AppKey("default", "hello-app");
  private static final Instant T0 = Instant.parse("2026-12-01T12:00:00Z");

  private static Observation settled(Flow flow) {
    Map<SubsetRole, RoleStatus> roles = new EnumMap<>(SubsetRole.class);
    flow.workloads().forEach((role, target) ->
        roles.put(role, new RoleStatus(target.version(), target.replicas(), target.replicas())));
    return new Observation(roles, true, List.of(), "grpc 1/1");
  }

  private static Flow judging() throws FlowException {
    MetricConfig latency = new MetricConfig("latency", "speed", Direction.INCREASE, true, null,
        null, false, MetricConfig.DEFAULT_CONFIDENCE, new Query("prometheus",
            "sum(rate(x{cluster=\"${cluster}\"}[1m]))", null));
    Analysis analysis = new Analysis(0.01, 50L, new JudgeConfig(List.of(latency),
        Map.of("speed", 100.0), new Thresholds(90, 70)), Duration.ofSeconds(5),
        Duration.ofMinutes(2), "rollback", "continue", 6);
    Flow flow = FlowMachine.start("f1", APP, FlowRequest.deploy("v2", List.of(10.0, 50.0),
        new Judgment("automatic", null, Duration.ofMinutes(3), analysis)),
        new FlowMachine.MainWorkload("v1", 4), SplitPolicy.OFF, "test", T0);
    Instant now = T0;
    while (flow.phase() != Phase.STEP_JUDGING) {
      now = now.plusSeconds(1);
      flow = FlowMachine.advance(flow, settled(flow), Verdict.pending(""), now);
    }
    return flow;
  }

  @Test
  void analysisAndEvidenceAreReadBackAsWritten(@TempDir Path dir) throws Exception {
    Flow flow = judging();
    Samples samples = new Samples(new double[] {10, 11, Double.NaN, 12, 10, 11},
        new double[] {30, 31, 29, Double.NaN, 30, 32});
    JudgeResult metrics = CanaryJudge.judge(flow.judgment().analysis().metrics(),
        Map.of("latency", samples));
    Evidence evidence = new Evidence(T0, T0.plusSeconds(5), T0.plusSeconds(200),
        new SequentialCountTest(0.01, 50).evaluate(0, 400, 0, 380), metrics,
        Map.of("latency", samples), List.of("gateway-1", "client-2"));
    Flow judged = FlowMachine.advance(flow, settled(flow), Verdict.rollback("too slow")
        .withEvidence(evidence), T0.plusSeconds(200));

    FlowStore store = FlowStore.open(dir);
    store.save(judged);
    Flow read = FlowStore.open(dir).load().get(0);

    assertThat(read.judgment()).isEqualTo(judged.judgment());
    assertThat(read.judgment().analysis().metrics().metrics().get(0).query().template())
        .contains("${cluster}");
    HistoryEntry verdict = read.history().stream()
        .filter(entry -> entry.event().equals("judgment")).findFirst().orElseThrow();
    assertThat(verdict.detail()).contains("roll back (too slow)");
    Evidence back = verdict.evidence();
    assertThat(back.errors()).isEqualTo(evidence.errors());
    assertThat(back.metrics()).usingRecursiveComparison().isEqualTo(evidence.metrics());
    assertThat(back.samples().get("latency").baseline())
        .containsExactly(10, 11, Double.NaN, 12, 10, 11);
    assertThat(back.reporters()).containsExactly("gateway-1", "client-2");
    assertThat(read.phase()).isEqualTo(Phase.ROLLBACK_PREPARE);
  }

  @Test
  void aHoldIsLoggedOnceAndAnApprovalStillContinues() throws Exception {
    Flow flow = judging();
    Verdict hold = new Verdict(Verdict.Decision.HOLD, "NoData, too few requests", null);
    for (int i = 0; i < 5; i++) {
      flow = FlowMachine.advance(flow, settled(flow), hold, T0.plusSeconds(100 + i));
    }
    assertThat(flow.history().stream().filter(entry -> entry.event().equals("judgment")))
        .hasSize(1);
    assertThat(flow.waitingFor()).isEqualTo("NoData, too few requests");
    assertThat(flow.phase()).isEqualTo(Phase.STEP_JUDGING);
  }

  @Test
  void aBadAnalysisIsRefusedAtStart() {
    Analysis noJudging = new Analysis(0.0, null, null, null, null, null, null, null);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> FlowMachine.start("f1", APP,
        FlowRequest.deploy("v2", null, new Judgment("automatic", null, Duration.ofMinutes(1),
            noJudging)), new FlowMachine.MainWorkload("v1", 4), SplitPolicy.OFF, "test", T0))
        .isInstanceOf(FlowException.class).hasMessageContaining("judges nothing");
    Analysis badPolicy = new Analysis(null, null, null, null, null, "shrug", null, null);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> FlowMachine.start("f1", APP,
        FlowRequest.deploy("v2", null, new Judgment("automatic", null, Duration.ofMinutes(1),
            badPolicy)), new FlowMachine.MainWorkload("v1", 4), SplitPolicy.OFF, "test", T0))
        .isInstanceOf(FlowException.class)
        .hasMessageContaining("onNoData must be pause, rollback or continue");
  }
}
