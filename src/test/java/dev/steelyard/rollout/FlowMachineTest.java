package dev.steelyard.rollout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.steelyard.split.SplitMode;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rollout state machine without a network: flows in, flows out. */
class FlowMachineTest {

  private static final AppKey APP = new AppKey("default", "hello-app");
  private static final Instant T0 = Instant.parse("2026-12-01T12:00:00Z");
  private static final FlowMachine.MainWorkload MAIN_V1 = new FlowMachine.MainWorkload("v1", 4);

  private Instant now = T0;

  private Flow deploy(List<Double> steps) throws FlowException {
    return FlowMachine.start("f1", APP, FlowRequest.deploy("v2", steps, null), MAIN_V1,
        SplitPolicy.OFF, "test", now);
  }

  /** Every target ready, the split served and ACKed. */
  private static Observation settled(Flow flow) {
    Map<SubsetRole, RoleStatus> roles = new EnumMap<>(SubsetRole.class);
    flow.workloads().forEach((role, target) ->
        roles.put(role, new RoleStatus(target.version(), target.replicas(), target.replicas())));
    return new Observation(roles, true, List.of(), "grpc 1/1");
  }

  private static Observation notAcked(Flow flow, String... lagging) {
    Observation ready = settled(flow);
    return new Observation(ready.roles(), false, List.of(lagging), "grpc 0/1");
  }

  private Flow tick(Flow flow, Observation seen) {
    now = now.plusSeconds(1);
    Verdict verdict = flow.phase() == Phase.STEP_JUDGING
        ? Judge.MANUAL.judge(flow, flow.phaseSince(), now) : Verdict.pending("");
    return FlowMachine.advance(flow, seen, verdict, now);
  }

  private Flow settle(Flow flow) {
    return tick(flow, settled(flow));
  }

  @Test
  void startSizesBaselineAndCanaryFromRAndKeepsMain() throws FlowException {
    Flow flow = deploy(null);
    assertThat(flow.stepsBasisPoints()).containsExactly(100, 1000, 2500, 5000);
    assertThat(flow.phase()).isEqualTo(Phase.STEP_SCALING);
    assertThat(flow.workloads()).containsEntry(SubsetRole.MAIN, new RoleTarget("v1", 4))
        .containsEntry(SubsetRole.BASELINE, new RoleTarget("v1", 1))
        .containsEntry(SubsetRole.CANARY, new RoleTarget("v2", 1));
    assertThat(flow.split()).isEqualTo(SplitPolicy.OFF);
  }

  @Test
  void healthyDeployWalksTheStepsWithApprovalsAndPromotes() throws FlowException {
    Flow flow = deploy(null);
    int[][] expected = {{4, 1, 1}, {4, 1, 1}, {3, 2, 2}, {1, 3, 3}};
    int[] steps = {100, 1000, 2500, 5000};
    for (int step = 0; step < 4; step++) {
      assertThat(flow.phase()).isEqualTo(Phase.STEP_SCALING);
      assertThat(flow.step()).isEqualTo(step);
      assertThat(flow.target(SubsetRole.MAIN).replicas()).as("main at step %d", step + 1)
          .isEqualTo(expected[step][0]);
      assertThat(flow.target(SubsetRole.BASELINE).replicas()).isEqualTo(expected[step][1]);
      assertThat(flow.target(SubsetRole.CANARY).replicas()).isEqualTo(expected[step][2]);
      // Not ready: the split does not move.
      Flow waiting = tick(flow, new Observation(Map.of(), true, List.of(), ""));
      assertThat(waiting.split()).isEqualTo(flow.split());
      assertThat(waiting.waitingFor()).contains("canary 0 of");
      flow = settle(flow);
      assertThat(flow.phase()).isEqualTo(Phase.STEP_ROUTING);
      assertThat(flow.split()).isEqualTo(new SplitPolicy(SplitMode.DEPLOY, steps[step]));
      flow = settle(flow);
      assertThat(flow.phase()).isEqualTo(Phase.STEP_JUDGING);
      Flow judged = settle(flow);
      assertThat(settle(judged)).as("no approval, no progress").isSameAs(judged);
      assertThat(judged.waitingFor()).contains("approval of step " + (step + 1));
      flow = FlowMachine.approve(flow, "operator", now);
      Flow approved = flow;
      assertThatThrownBy(() -> FlowMachine.approve(approved, "operator", now))
          .isInstanceOf(FlowException.class).hasMessageContaining("no gate is open");
      flow = settle(flow);
    }
    assertThat(flow.phase()).isEqualTo(Phase.PROMOTING_MAIN);
    assertThat(flow.target(SubsetRole.MAIN)).isEqualTo(new RoleTarget("v2", 4));
    assertThat(flow.split().mode()).as("still the last step until main is ready")
        .isEqualTo(SplitMode.DEPLOY);
    flow = settle(flow);
    assertThat(flow.phase()).isEqualTo(Phase.PROMOTING_ROUTE);
    assertThat(flow.split()).isEqualTo(SplitPolicy.OFF);
    flow = settle(flow);
    assertThat(flow.phase()).isEqualTo(Phase.PROMOTING_CLEANUP);
    assertThat(flow.target(SubsetRole.BASELINE).replicas()).isZero();
    assertThat(flow.target(SubsetRole.CANARY).replicas()).isZero();
    flow = settle(flow);
    assertThat(flow.phase()).isEqualTo(Phase.PROMOTED);
    assertThat(settle(flow).phase()).isEqualTo(Phase.PROMOTED);
    now = now.plus(Duration.ofHours(1));
    flow = settle(flow);
    assertThat(flow.phase()).isEqualTo(Phase.COMPLETED);
    assertThat(flow.endedAt()).isNotNull();
    assertThat(flow.history()).extracting(HistoryEntry::event).contains("started", "scale",
        "weight", "phase", "approve", "judgment");
  }

  @Test
  void aStepNotAckedInTimeIsNotJudgedAndSaysWhoLags() throws FlowException {
    Flow flow = settle(deploy(List.of(5.0, 20.0)));
    assertThat(flow.phase()).isEqualTo(Phase.STEP_ROUTING);
    flow = tick(flow, notAcked(flow, "grpc slow-client"));
    assertThat(flow.phase()).isEqualTo(Phase.STEP_ROUTING);
    now = now.plus(Duration.ofSeconds(30));
    flow = tick(flow, notAcked(flow, "grpc slow-client"));
    assertThat(flow.phase()).isEqualTo(Phase.STEP_ACK_PAUSED);
    assertThat(flow.lagging()).containsExactly("grpc slow-client");
    assertThat(flow.waitingFor()).contains("lagging: grpc slow-client");
    Flow paused = flow;
    assertThatThrownBy(() -> FlowMachine.approve(paused, "operator", now))
        .hasMessageContaining("no gate is open");
    flow = settle(flow);
    assertThat(flow.phase()).as("resumes once the laggard ACKs").isEqualTo(Phase.STEP_JUDGING);
  }

  @Test
  void rollbackMovesTheCanaryShareByReadyReplicasThenRestoresMainFirst() throws FlowException {
    Flow flow = deploy(List.of(10.0, 25.0));
    flow = settle(settle(flow));
    flow = settle(FlowMachine.approve(flow, "op", now));
    // Step 2: 25 %: main 3, baseline 2, canary 2 (R = 4).
    flow = settle(settle(flow));
    assertThat(flow.phase()).isEqualTo(Phase.STEP_JUDGING);
    flow = FlowMachine.rollback(flow, "op", now);
    assertThat(FlowMachine.rollback(flow, "op", now)).as("safe to repeat").isSameAs(flow);
    assertThat(flow.phase()).isEqualTo(Phase.ROLLBACK_PREPARE);
    flow = settle(flow);
    assertThat(flow.phase()).isEqualTo(Phase.ROLLBACK_SHIFT);
    // Canary's 25 % split 3:2 between main (3 ready) and baseline (2 ready): baseline 25 + 10.
    assertThat(flow.split()).isEqualTo(new SplitPolicy(SplitMode.ROLLBACK, 3500));
    assertThat(flow.split().weights().canary()).isZero();
    assertThat(flow.target(SubsetRole.MAIN).replicas()).as("not before the shift is ACKed")
        .isEqualTo(3);
    flow = tick(flow, notAcked(flow, "grpc a"));
    assertThat(flow.phase()).isEqualTo(Phase.ROLLBACK_SHIFT);
    flow = settle(flow);
    assertThat(flow.phase()).isEqualTo(Phase.ROLLBACK_RESTORE);
    assertThat(flow.target(SubsetRole.MAIN)).isEqualTo(new RoleTarget("v1", 4));
    assertThat(flow.split().mode()).isEqualTo(SplitMode.ROLLBACK);
    flow = settle(flow);
    assertThat(flow.phase()).isEqualTo(Phase.ROLLBACK_ROUTE);
    assertThat(flow.split()).isEqualTo(SplitPolicy.OFF);
    flow = settle(flow);
    assertThat(flow.target(SubsetRole.BASELINE).replicas()).isZero();
    assertThat(flow.target(SubsetRole.CANARY).replicas()).isZero();
    flow = settle(flow);
    assertThat(flow.phase()).isEqualTo(Phase.ROLLED_BACK);
  }

  @Test
  void rollbackAfterPromotionRunsTheOldVersionBeforeMovingTraffic() throws FlowException {
    Flow flow = deploy(List.of(50.0));
    flow = settle(settle(flow));
    flow = settle(FlowMachine.approve(flow, "op", now));
    flow = settle(settle(settle(flow)));
    assertThat(flow.phase()).isEqualTo(Phase.PROMOTED);
    flow = FlowMachine.rollback(flow, "op", now);
    assertThat(flow.target(SubsetRole.BASELINE)).isEqualTo(new RoleTarget("v1", 4));
    Map<SubsetRole, RoleStatus> notYet = new EnumMap<>(settled(flow).roles());
    notYet.put(SubsetRole.BASELINE, new RoleStatus("v1", 4, 1));
    assertThat(tick(flow, new Observation(notYet, true, List.of(), "")).phase())
        .isEqualTo(Phase.ROLLBACK_PREPARE);
    flow = settle(flow);
    assertThat(flow.split()).isEqualTo(new SplitPolicy(SplitMode.ROLLBACK, 10_000));
    flow = settle(flow);
    assertThat(flow.target(SubsetRole.MAIN)).isEqualTo(new RoleTarget("v1", 4));
    flow = settle(settle(settle(flow)));
    assertThat(flow.phase()).isEqualTo(Phase.ROLLED_BACK);
  }

  @Test
  void aWeightSetOverAndOverKeepsABoundedHistoryThatStartsWithTheStart() throws FlowException {
    Flow flow = settle(settle(FlowMachine.start("t1", APP, FlowRequest.test("v2", 2, 5),
        MAIN_V1, SplitPolicy.OFF, "op", now)));
    HistoryEntry start = flow.history().get(0);
    for (int i = 0; i < 3 * FlowMachine.MAX_HISTORY; i++) {
      flow = FlowMachine.setWeight(flow, 1 + i % 40, "op", now);
    }
    assertThat(flow.history()).hasSize(FlowMachine.MAX_HISTORY);
    assertThat(flow.history().get(0)).isEqualTo(start);
    assertThat(flow.history().get(flow.history().size() - 1).detail()).contains("40");
  }

  @Test
  void canaryTestFollowsItsWeightAndEndsAtZero() throws FlowException {
    Flow flow = FlowMachine.start("t1", APP, FlowRequest.test("v2", 2, 5), MAIN_V1,
        SplitPolicy.OFF, "op", now);
    assertThat(flow.workloads()).containsOnlyKeys(SubsetRole.CANARY);
    flow = settle(flow);
    assertThat(flow.split()).isEqualTo(new SplitPolicy(SplitMode.TEST, 500));
    flow = settle(flow);
    assertThat(flow.phase()).isEqualTo(Phase.TEST_RUNNING);
    Flow running = flow;
    assertThatThrownBy(() -> FlowMachine.setWeight(running, 60, "op", now))
        .hasMessageContaining("above the cap of 50 %");
    flow = FlowMachine.setWeight(flow, 20, "op", now);
    assertThat(flow.split()).isEqualTo(new SplitPolicy(SplitMode.TEST, 2000));
    assertThat(flow.target(SubsetRole.CANARY)).isEqualTo(new RoleTarget("v2", 2));
    flow = settle(flow);
    assertThat(flow.phase()).isEqualTo(Phase.TEST_RUNNING);
    flow = FlowMachine.setWeight(flow, 0, "op", now);
    assertThat(flow.split()).isEqualTo(SplitPolicy.OFF);
    assertThat(flow.target(SubsetRole.CANARY).replicas()).as("not before the ACKs").isEqualTo(2);
    flow = settle(flow);
    assertThat(flow.target(SubsetRole.CANARY).replicas()).isZero();
    flow = settle(flow);
    assertThat(flow.phase()).isEqualTo(Phase.TEST_ENDED);
  }

  @Test
  void aTestPastItsTimeLimitEnds() throws FlowException {
    FlowRequest request = new FlowRequest("test", "v2", null, null, null, null, 1, 10.0, null,
        Duration.ofMinutes(5), null, null);
    Flow flow = settle(settle(FlowMachine.start("t1", APP, request, MAIN_V1, SplitPolicy.OFF,
        "op", now)));
    assertThat(flow.phase()).isEqualTo(Phase.TEST_RUNNING);
    now = now.plus(Duration.ofMinutes(5));
    flow = settle(flow);
    assertThat(flow.phase()).isEqualTo(Phase.TEST_ENDING_ROUTE);
    assertThat(flow.split()).isEqualTo(SplitPolicy.OFF);
  }

  @Test
  void abortSendsEverythingToMainAndLeavesWorkloads() throws FlowException {
    Flow flow = settle(settle(deploy(List.of(10.0))));
    flow = FlowMachine.abort(flow, "op", now);
    assertThat(flow.split()).isEqualTo(SplitPolicy.OFF);
    flow = settle(flow);
    assertThat(flow.phase()).isEqualTo(Phase.ABORTED);
    assertThat(flow.target(SubsetRole.CANARY).replicas()).isEqualTo(1);
  }

  @Test
  void badInputIsRefusedWithAReason() throws FlowException {
    assertThatThrownBy(() -> deploy(List.of(10.0, 5.0))).hasMessageContaining("increasing");
    assertThatThrownBy(() -> deploy(List.of(10.0, 60.0))).hasMessageContaining("0 <= n <= 50");
    assertThatThrownBy(() -> deploy(List.of(0.0))).hasMessageContaining("above 0");
    assertThatThrownBy(() -> deploy(List.of(1.005))).hasMessageContaining("finer than 0.01");
    assertThatThrownBy(() -> FlowMachine.start("x", APP, FlowRequest.deploy("v1", null, null),
        MAIN_V1, SplitPolicy.OFF, "op", now)).hasMessageContaining("already runs version v1");
    assertThatThrownBy(() -> FlowMachine.start("x", APP, FlowRequest.test("v2", 1, 51),
        MAIN_V1, SplitPolicy.OFF, "op", now)).hasMessageContaining("above the cap");
    assertThat(deploy(List.of(0.5, 12.25)).stepsBasisPoints()).containsExactly(50, 1225);
  }

  @Test
  void flowsSurviveTheirStore(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    Flow flow = settle(deploy(null));
    FlowStore store = FlowStore.open(dir);
    store.save(flow);
    assertThat(FlowStore.open(dir).load()).containsExactly(flow);
  }
}
