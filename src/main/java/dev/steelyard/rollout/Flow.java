package dev.steelyard.rollout;

import dev.steelyard.split.SplitPolicy;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * One flow of one app, as persisted: its input (kept for the whole flow, such as R, main's
 * replicas at the start), where it is, what it wants the workloads and the split to be, and its
 * history. Immutable; {@link FlowMachine} makes the next one.
 *
 * @param mainReplicas R, main's replica count when the flow started
 * @param stepsBasisPoints deploy steps in basis points (1 = 0.01 %); empty for a test
 * @param canaryReplicas the canary's replica count in a test
 * @param weightBasisPoints the canary weight a test asks for now
 * @param endsAt when a test ends by itself; null without a time limit
 * @param workloads what each role should run; roles a flow does not touch are absent
 * @param split the split the flow wants the proxies to have
 * @param phaseSince when the flow entered its phase (a step's analysis window starts here)
 * @param weightSetAt when the flow last changed the split
 * @param approvedStep the highest step an operator approved, -1 for none
 * @param waitingFor what the flow waits for now, in words; empty when it does not wait
 * @param lagging proxies that have not ACKed the flow's split yet
 * @param endedAt when the flow reached a terminal phase; null while it runs
 */
public record Flow(
    String id,
    AppKey app,
    FlowKind kind,
    String oldVersion,
    String newVersion,
    int mainReplicas,
    List<Integer> stepsBasisPoints,
    Sizing sizing,
    Judgment judgment,
    int canaryReplicas,
    int weightBasisPoints,
    int weightCapBasisPoints,
    Instant endsAt,
    Duration ackTimeout,
    Duration postPromotionWindow,
    Phase phase,
    int step,
    Map<SubsetRole, RoleTarget> workloads,
    SplitPolicy split,
    Instant phaseSince,
    Instant weightSetAt,
    int approvedStep,
    String approvedBy,
    String waitingFor,
    List<String> lagging,
    List<HistoryEntry> history,
    String startedBy,
    Instant startedAt,
    Instant endedAt) {

  public Flow {
    stepsBasisPoints = List.copyOf(stepsBasisPoints);
    EnumMap<SubsetRole, RoleTarget> targets = new EnumMap<>(SubsetRole.class);
    targets.putAll(workloads);
    workloads = java.util.Collections.unmodifiableMap(targets);
    lagging = List.copyOf(lagging);
    history = List.copyOf(history);
    waitingFor = waitingFor == null ? "" : waitingFor;
    approvedBy = approvedBy == null ? "" : approvedBy;
  }

  public RoleTarget target(SubsetRole role) {
    return workloads.getOrDefault(role, RoleTarget.NONE);
  }

  public boolean active() {
    return !phase.terminal();
  }

  /** This flow with another history: a store that bounds its size keeps a trimmed one. */
  public Flow withHistory(List<HistoryEntry> history) {
    Builder b = toBuilder();
    b.history = new ArrayList<>(history);
    return b.build();
  }

  public Builder toBuilder() {
    return new Builder(this);
  }

  /** A mutable copy for {@link FlowMachine}'s transitions; {@link #build} makes the record. */
  public static final class Builder {
    String id;
    AppKey app;
    FlowKind kind;
    String oldVersion;
    String newVersion;
    int mainReplicas;
    List<Integer> stepsBasisPoints;
    Sizing sizing;
    Judgment judgment;
    int canaryReplicas;
    int weightBasisPoints;
    int weightCapBasisPoints;
    Instant endsAt;
    Duration ackTimeout;
    Duration postPromotionWindow;
    Phase phase;
    int step;
    Map<SubsetRole, RoleTarget> workloads;
    SplitPolicy split;
    Instant phaseSince;
    Instant weightSetAt;
    int approvedStep;
    String approvedBy;
    String waitingFor;
    List<String> lagging;
    List<HistoryEntry> history;
    String startedBy;
    Instant startedAt;
    Instant endedAt;

    Builder() {
      workloads = new EnumMap<>(SubsetRole.class);
      history = new ArrayList<>();
      lagging = List.of();
      stepsBasisPoints = List.of();
      approvedStep = -1;
    }

    private Builder(Flow flow) {
      id = flow.id;
      app = flow.app;
      kind = flow.kind;
      oldVersion = flow.oldVersion;
      newVersion = flow.newVersion;
      mainReplicas = flow.mainReplicas;
      stepsBasisPoints = flow.stepsBasisPoints;
      sizing = flow.sizing;
      judgment = flow.judgment;
      canaryReplicas = flow.canaryReplicas;
      weightBasisPoints = flow.weightBasisPoints;
      weightCapBasisPoints = flow.weightCapBasisPoints;
      endsAt = flow.endsAt;
      ackTimeout = flow.ackTimeout;
      postPromotionWindow = flow.postPromotionWindow;
      phase = flow.phase;
      step = flow.step;
      workloads = new EnumMap<>(SubsetRole.class);
      workloads.putAll(flow.workloads);
      split = flow.split;
      phaseSince = flow.phaseSince;
      weightSetAt = flow.weightSetAt;
      approvedStep = flow.approvedStep;
      approvedBy = flow.approvedBy;
      waitingFor = flow.waitingFor;
      lagging = flow.lagging;
      history = new ArrayList<>(flow.history);
      startedBy = flow.startedBy;
      startedAt = flow.startedAt;
      endedAt = flow.endedAt;
    }

    public Flow build() {
      return new Flow(id, app, kind, oldVersion, newVersion, mainReplicas, stepsBasisPoints,
          sizing, judgment, canaryReplicas, weightBasisPoints, weightCapBasisPoints, endsAt,
          ackTimeout, postPromotionWindow, phase, step, workloads, split, phaseSince, weightSetAt,
          approvedStep, approvedBy, waitingFor, lagging, history, startedBy, startedAt, endedAt);
    }
  }
}
