package dev.steelyard.rollout;

import dev.steelyard.split.SplitMode;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import dev.steelyard.view.SubsetWeights;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The rollout state machine: pure functions from a flow (and what the engine observed, and the
 * judge's verdict) to the next flow. No I/O, no clock: the engine persists what comes out and
 * then makes the workloads and the split look like it says.
 */
public final class FlowMachine {

  static final String ENGINE = "engine";

  private FlowMachine() {}

  /** Main's workload when a flow starts: the version it runs and its replicas (R). */
  public record MainWorkload(String version, int replicas) {}

  /** A new flow from a validated request; throws 400 for bad input. */
  public static Flow start(String id, AppKey app, FlowRequest request, MainWorkload main,
      SplitPolicy currentSplit, String by, Instant now) throws FlowException {
    FlowKind kind = FlowKind.fromLabel(request.kind() == null ? "" : request.kind());
    if (request.version() == null || request.version().isBlank()) {
      throw FlowException.badRequest("version is required (an image, a tag, or a version label)");
    }
    if (main.version().isEmpty()) {
      main = new MainWorkload(request.fromVersion() == null || request.fromVersion().isBlank()
          ? FlowRequest.UNKNOWN_VERSION : request.fromVersion(), main.replicas());
    }
    if (main.replicas() < 1) {
      throw FlowException.conflict("main of " + app + " has no replicas to start from");
    }
    if (request.version().equals(main.version())) {
      throw FlowException.badRequest("main already runs version " + main.version());
    }
    Duration ackTimeout = positive("ackTimeout", request.ackTimeout(),
        FlowRequest.DEFAULT_ACK_TIMEOUT);
    Flow.Builder b = new Flow.Builder();
    b.id = id;
    b.app = app;
    b.kind = kind;
    b.oldVersion = main.version();
    b.newVersion = request.version();
    b.mainReplicas = main.replicas();
    b.ackTimeout = ackTimeout;
    b.postPromotionWindow = request.postPromotionWindow() == null
        ? FlowRequest.DEFAULT_POST_PROMOTION_WINDOW : request.postPromotionWindow();
    b.split = currentSplit;
    b.startedBy = by;
    b.startedAt = now;
    b.phaseSince = now;
    b.weightSetAt = now;
    b.step = 0;
    b.sizing = Sizing.fromLabel(request.sizing());
    b.judgment = request.judgment() == null ? Judgment.MANUAL : request.judgment();
    if (kind == FlowKind.DEPLOY) {
      if (request.weight() != null || request.canaryReplicas() != null) {
        throw FlowException.badRequest("weight and canaryReplicas are for a canary test; a "
            + "deploy takes steps");
      }
      if (!List.of("manual", "pause", "automatic").contains(b.judgment.type())) {
        throw FlowException.badRequest("judgment.type must be manual, pause or automatic, not '"
            + b.judgment.type() + "'");
      }
      if (b.judgment.type().equals("automatic")) {
        if (b.judgment.window().isNegative() || b.judgment.window().isZero()) {
          throw FlowException.badRequest("an automatic judgment needs a positive window, e.g. "
              + "\"PT5M\"");
        }
        String problem = b.judgment.analysis().problem();
        if (problem != null) {
          throw FlowException.badRequest(problem);
        }
      } else if (b.judgment.analysis() != null) {
        throw FlowException.badRequest("judgment.analysis is for type automatic");
      }
      if (b.judgment.type().equals("pause") && b.judgment.pause().isZero()) {
        throw FlowException.badRequest("judgment pause needs a duration, e.g. \"PT30S\"");
      }
      b.stepsBasisPoints = Steps.toBasisPoints(request.steps() == null ? Steps.DEFAULT
          : request.steps());
      int n = b.stepsBasisPoints.get(0);
      b.workloads.put(SubsetRole.MAIN, new RoleTarget(b.oldVersion, b.mainReplicas));
      b.workloads.put(SubsetRole.BASELINE,
          new RoleTarget(b.oldVersion, b.sizing.side(b.mainReplicas, n)));
      b.workloads.put(SubsetRole.CANARY,
          new RoleTarget(b.newVersion, b.sizing.side(b.mainReplicas, n)));
      b.phase = Phase.STEP_SCALING;
      log(b, now, "started", "canary deploy " + b.oldVersion + " -> " + b.newVersion + ", steps "
          + describeSteps(b.stepsBasisPoints) + ", judgment " + b.judgment + ", R = "
          + b.mainReplicas + " (" + b.sizing.label() + " sizing)", by, "");
      log(b, now, "scale", "step 1: " + describeTargets(b.workloads), ENGINE, "");
    } else {
      if (request.steps() != null) {
        throw FlowException.badRequest("steps are for a canary deploy; a test takes weight");
      }
      b.weightCapBasisPoints = Steps.basisPoints("weightCap", request.weightCap() == null
          ? FlowRequest.DEFAULT_WEIGHT_CAP : request.weightCap(), 100);
      if (request.weight() == null) {
        throw FlowException.badRequest("a canary test needs weight (percent to the canary)");
      }
      b.weightBasisPoints = testWeight(request.weight(), b.weightCapBasisPoints);
      if (b.weightBasisPoints == 0) {
        throw FlowException.badRequest("a canary test starts with a weight above 0");
      }
      b.canaryReplicas = request.canaryReplicas() == null ? 1 : request.canaryReplicas();
      if (b.canaryReplicas < 1) {
        throw FlowException.badRequest("canaryReplicas must be at least 1");
      }
      if (request.timeLimit() != null) {
        b.endsAt = now.plus(positive("timeLimit", request.timeLimit(), null));
      }
      b.workloads.put(SubsetRole.CANARY, new RoleTarget(b.newVersion, b.canaryReplicas));
      b.phase = Phase.TEST_SCALING;
      log(b, now, "started", "canary test of " + b.newVersion + " at "
          + Steps.describe(b.weightBasisPoints) + " % (cap " + Steps.describe(
              b.weightCapBasisPoints) + " %), " + b.canaryReplicas + " canary replica(s)"
          + (b.endsAt == null ? "" : ", until " + b.endsAt), by, "");
      log(b, now, "scale", describeTargets(b.workloads), ENGINE, "");
    }
    return b.build();
  }

  private static Duration positive(String what, Duration given, Duration fallback)
      throws FlowException {
    if (given == null) {
      return fallback;
    }
    if (given.isNegative() || given.isZero()) {
      throw FlowException.badRequest(what + " must be positive");
    }
    return given;
  }

  static int testWeight(Double percent, int capBasisPoints) throws FlowException {
    int bp = Steps.basisPoints("weight", percent, 100);
    if (bp > capBasisPoints) {
      throw FlowException.badRequest("weight " + Steps.describe(bp) + " % is above the cap of "
          + Steps.describe(capBasisPoints) + " %");
    }
    return bp;
  }

  // ---------------------------------------------------------------------------------------
  // Ticks

  /**
   * The next flow after one look at the world. Returns {@code flow} itself when nothing
   * changed, so the engine persists only real changes. {@code verdict} is the judge's answer,
   * used only while a step is judged.
   */
  public static Flow advance(Flow flow, Observation seen, Verdict verdict, Instant now) {
    if (flow.phase().terminal()) {
      return flow;
    }
    Flow.Builder b = flow.toBuilder();
    String acks = seen.acks();
    switch (flow.phase()) {
      case STEP_SCALING -> {
        if (workloadsReady(flow, seen)) {
          int n = flow.stepsBasisPoints().get(flow.step());
          route(b, new SplitPolicy(SplitMode.DEPLOY, n), now, acks);
          enter(b, Phase.STEP_ROUTING, now, "step " + (flow.step() + 1) + ": workloads ready, "
              + "deploy split " + Steps.describe(n) + " set", acks);
        } else {
          b.waitingFor = "workloads: " + unready(flow, seen);
        }
      }
      case STEP_ROUTING, STEP_ACK_PAUSED -> {
        if (seen.splitApplied()) {
          enter(b, Phase.STEP_JUDGING, now, "step " + (flow.step() + 1) + ": every connected "
              + "proxy ACKed; judging (" + flow.judgment() + ")", acks);
          b.waitingFor = "the judgment of step " + (flow.step() + 1) + " (" + flow.judgment()
              + ")";
        } else if (flow.phase() == Phase.STEP_ROUTING
            && !now.isBefore(flow.phaseSince().plus(flow.ackTimeout()))) {
          b.lagging = seen.lagging();
          enter(b, Phase.STEP_ACK_PAUSED, now, "step " + (flow.step() + 1) + " not ACKed within "
              + flow.ackTimeout() + " by " + String.join(", ", seen.lagging())
              + "; not judged until they ACK", acks);
          b.waitingFor = ackWait(b.split, seen);
        } else {
          b.lagging = seen.lagging();
          b.waitingFor = ackWait(b.split, seen);
        }
      }
      case STEP_JUDGING -> {
        switch (verdict.decision()) {
          case PENDING -> b.waitingFor = verdict.reason();
          case HOLD -> {
            // Logged once: the flow waits, saying so, until an operator decides.
            if (!verdict.reason().equals(flow.waitingFor())) {
              log(b, now, "judgment", "step " + (flow.step() + 1) + ": hold ("
                  + verdict.reason() + ")", "judge " + flow.judgment().type(), acks,
                  verdict.evidence());
            }
            b.waitingFor = verdict.reason();
          }
          case CONTINUE -> {
            log(b, now, "judgment", "step " + (flow.step() + 1) + ": continue (" + verdict.reason()
                + ")", "judge " + flow.judgment().type(), acks, verdict.evidence());
            if (flow.step() + 1 < flow.stepsBasisPoints().size()) {
              nextStep(b, now, acks);
            } else {
              scale(b, SubsetRole.MAIN, new RoleTarget(flow.newVersion(), flow.mainReplicas()),
                  now, acks);
              enter(b, Phase.PROMOTING_MAIN, now, "last step passed: promoting main to "
                  + flow.newVersion(), acks);
            }
          }
          case ROLLBACK -> {
            log(b, now, "judgment", "step " + (flow.step() + 1) + ": roll back (" + verdict.reason()
                + ")", "judge " + flow.judgment().type(), acks, verdict.evidence());
            beginRollback(b, now, acks);
          }
        }
      }
      case PROMOTING_MAIN -> {
        if (roleReady(flow, seen, SubsetRole.MAIN)) {
          route(b, SplitPolicy.OFF, now, acks);
          enter(b, Phase.PROMOTING_ROUTE, now, "main ready at " + flow.newVersion()
              + "; 100 % to main", acks);
        } else {
          b.waitingFor = "workloads: " + unready(flow, seen);
        }
      }
      case PROMOTING_ROUTE -> awaitAcks(b, flow, seen, now, () -> {
        scale(b, SubsetRole.BASELINE, new RoleTarget(flow.oldVersion(), 0), now, acks);
        scale(b, SubsetRole.CANARY, new RoleTarget(flow.newVersion(), 0), now, acks);
        enter(b, Phase.PROMOTING_CLEANUP, now, "main serves 100 %; baseline and canary to 0",
            acks);
      });
      case PROMOTING_CLEANUP -> {
        if (workloadsReady(flow, seen)) {
          enter(b, Phase.PROMOTED, now, "promoted: main runs " + flow.newVersion()
              + "; rollback stays one call away until " + now.plus(flow.postPromotionWindow()),
              acks);
          b.waitingFor = "the post-promotion window to end at "
              + now.plus(flow.postPromotionWindow()) + " (rollback is one call until then)";
        } else {
          b.waitingFor = "workloads: " + unready(flow, seen);
        }
      }
      case PROMOTED -> {
        if (!now.isBefore(flow.phaseSince().plus(flow.postPromotionWindow()))) {
          finish(b, Phase.COMPLETED, now, "post-promotion window over; completed", acks);
        }
      }
      case ROLLBACK_PREPARE -> {
        // Only the old version must be ready: a canary that never gets ready is a reason to
        // roll back, not a reason to wait.
        boolean mainOld = flow.target(SubsetRole.MAIN).version().equals(flow.oldVersion());
        if (mainOld || roleReady(flow, seen, SubsetRole.BASELINE)) {
          SplitPolicy shift = rollbackShift(flow, seen);
          route(b, shift, now, acks);
          enter(b, Phase.ROLLBACK_SHIFT, now, "new-version traffic moved to the old version by "
              + "ready replicas: " + shift.weights() + " (main/baseline/canary)", acks);
        } else {
          b.waitingFor = "old-version workloads before moving traffic: " + unready(flow, seen);
        }
      }
      case ROLLBACK_SHIFT -> awaitAcks(b, flow, seen, now, () -> {
        scale(b, SubsetRole.MAIN, new RoleTarget(flow.oldVersion(), flow.mainReplicas()), now,
            acks);
        enter(b, Phase.ROLLBACK_RESTORE, now, "no new-version traffic; restoring main to "
            + flow.oldVersion() + " at " + flow.mainReplicas(), acks);
      });
      case ROLLBACK_RESTORE -> {
        if (roleReady(flow, seen, SubsetRole.MAIN)) {
          route(b, SplitPolicy.OFF, now, acks);
          enter(b, Phase.ROLLBACK_ROUTE, now, "main restored; 100 % to main", acks);
        } else {
          b.waitingFor = "workloads: " + unready(flow, seen);
        }
      }
      case ROLLBACK_ROUTE -> awaitAcks(b, flow, seen, now, () -> {
        scale(b, SubsetRole.BASELINE, new RoleTarget(flow.oldVersion(), 0), now, acks);
        scale(b, SubsetRole.CANARY, new RoleTarget(flow.newVersion(), 0), now, acks);
        enter(b, Phase.ROLLBACK_CLEANUP, now, "main serves 100 %; baseline and canary to 0",
            acks);
      });
      case ROLLBACK_CLEANUP -> {
        if (workloadsReady(flow, seen)) {
          finish(b, Phase.ROLLED_BACK, now, "rolled back: main runs " + flow.oldVersion(), acks);
        } else {
          b.waitingFor = "workloads: " + unready(flow, seen);
        }
      }
      case TEST_SCALING -> {
        if (timeUp(flow, now)) {
          endTest(b, now, "time limit reached", ENGINE, acks);
        } else if (workloadsReady(flow, seen)) {
          route(b, new SplitPolicy(SplitMode.TEST, flow.weightBasisPoints()), now, acks);
          enter(b, Phase.TEST_ROUTING, now, "canary ready; test split "
              + Steps.describe(flow.weightBasisPoints()) + " set", acks);
        } else {
          b.waitingFor = "workloads: " + unready(flow, seen);
        }
      }
      case TEST_ROUTING -> {
        if (timeUp(flow, now)) {
          endTest(b, now, "time limit reached", ENGINE, acks);
        } else {
          awaitAcks(b, flow, seen, now, () -> enter(b, Phase.TEST_RUNNING, now,
              "every connected proxy ACKed test " + Steps.describe(flow.weightBasisPoints()),
              acks));
        }
      }
      case TEST_RUNNING -> {
        if (timeUp(flow, now)) {
          endTest(b, now, "time limit reached", ENGINE, acks);
        } else {
          b.waitingFor = flow.endsAt() == null ? "a weight change or the end of the test"
              : "a weight change, the end of the test, or its time limit at " + flow.endsAt();
        }
      }
      case TEST_ENDING_ROUTE -> awaitAcks(b, flow, seen, now, () -> {
        scale(b, SubsetRole.CANARY, new RoleTarget(flow.newVersion(), 0), now, acks);
        enter(b, Phase.TEST_ENDING_CLEANUP, now, "main serves 100 %; canary to 0", acks);
      });
      case TEST_ENDING_CLEANUP -> {
        if (workloadsReady(flow, seen)) {
          finish(b, Phase.TEST_ENDED, now, "test ended; canary gone", acks);
        } else {
          b.waitingFor = "workloads: " + unready(flow, seen);
        }
      }
      case ABORTING -> {
        boolean timedOut = !now.isBefore(flow.phaseSince().plus(flow.ackTimeout()));
        if (seen.splitApplied() || timedOut) {
          finish(b, Phase.ABORTED, now, "aborted: 100 % to main"
              + (seen.splitApplied() ? "" : " (not ACKed by " + String.join(", ", seen.lagging())
                  + ")") + "; workloads left as they are: " + describeTargets(flow.workloads()),
              acks);
        } else {
          b.lagging = seen.lagging();
          b.waitingFor = ackWait(b.split, seen);
        }
      }
      default -> throw new IllegalStateException("no transition from " + flow.phase());
    }
    Flow next = b.build();
    return next.equals(flow) ? flow : next;
  }

  private static void awaitAcks(Flow.Builder b, Flow flow, Observation seen, Instant now,
      Runnable then) {
    if (seen.splitApplied()) {
      b.lagging = List.of();
      then.run();
      return;
    }
    b.lagging = seen.lagging();
    b.waitingFor = ackWait(flow.split(), seen)
        + (!now.isBefore(flow.phaseSince().plus(flow.ackTimeout()))
            ? " (past the ACK timeout of " + flow.ackTimeout() + ")" : "");
  }

  private static String ackWait(SplitPolicy split, Observation seen) {
    return "ACKs of " + split + " (" + seen.acks() + ")"
        + (seen.lagging().isEmpty() ? "" : "; lagging: " + String.join(", ", seen.lagging()));
  }

  private static boolean timeUp(Flow flow, Instant now) {
    return flow.endsAt() != null && !now.isBefore(flow.endsAt());
  }

  private static void nextStep(Flow.Builder b, Instant now, String acks) {
    b.step = b.step + 1;
    int n = b.stepsBasisPoints.get(b.step);
    int r = b.mainReplicas;
    scale(b, SubsetRole.BASELINE, new RoleTarget(b.oldVersion, b.sizing.side(r, n)), now, acks);
    scale(b, SubsetRole.CANARY, new RoleTarget(b.newVersion, b.sizing.side(r, n)), now, acks);
    scale(b, SubsetRole.MAIN, new RoleTarget(b.oldVersion, b.sizing.main(r, n, b.step)), now,
        acks);
    enter(b, Phase.STEP_SCALING, now, "step " + (b.step + 1) + " (" + Steps.describe(n)
        + " %): " + describeTargets(b.workloads), acks);
  }

  /**
   * The rollback's first push: every share of a subset running the new version goes to the
   * subsets running the old one, in proportion to their ready replicas, so none takes more than
   * its capacity allows relative to the others.
   */
  static SplitPolicy rollbackShift(Flow flow, Observation seen) {
    SubsetWeights set = flow.split().weights();
    boolean mainOld = flow.target(SubsetRole.MAIN).version().equals(flow.oldVersion());
    boolean baselineOld = flow.target(SubsetRole.BASELINE).version().equals(flow.oldVersion())
        && flow.target(SubsetRole.BASELINE).replicas() > 0;
    int mainReady = mainOld ? seen.role(SubsetRole.MAIN).ready() : 0;
    int baselineReady = baselineOld ? seen.role(SubsetRole.BASELINE).ready() : 0;
    if (mainReady + baselineReady == 0) {
      return SplitPolicy.OFF;
    }
    int moving = set.canary() + (mainOld ? 0 : set.main())
        + (baselineOld ? 0 : set.baseline());
    int baseline = (baselineOld ? set.baseline() : 0)
        + (int) ((long) moving * baselineReady / (mainReady + baselineReady));
    return baseline == 0 ? SplitPolicy.OFF : new SplitPolicy(SplitMode.ROLLBACK, baseline);
  }

  private static void beginRollback(Flow.Builder b, Instant now, String acks) {
    if (!b.workloads.get(SubsetRole.MAIN).version().equals(b.oldVersion)) {
      // After promotion main runs the new version: the old one must run somewhere first.
      scale(b, SubsetRole.BASELINE, new RoleTarget(b.oldVersion, b.mainReplicas), now, acks);
    }
    enter(b, Phase.ROLLBACK_PREPARE, now, "rolling back to " + b.oldVersion, acks);
  }

  private static void endTest(Flow.Builder b, Instant now, String why, String by, String acks) {
    log(b, now, "end", why, by, acks);
    route(b, SplitPolicy.OFF, now, acks);
    enter(b, Phase.TEST_ENDING_ROUTE, now, "ending the test: 100 % to main", acks);
  }

  // ---------------------------------------------------------------------------------------
  // Commands

  /** Opens the gate of the step being judged; 409 when no gate is open. */
  public static Flow approve(Flow flow, String by, Instant now) throws FlowException {
    if (flow.kind() != FlowKind.DEPLOY || flow.phase() != Phase.STEP_JUDGING
        || flow.approvedStep() >= flow.step()) {
      throw FlowException.conflict("no gate is open: the flow is " + flow.phase().label()
          + (flow.waitingFor().isEmpty() ? "" : ", waiting for " + flow.waitingFor()));
    }
    Flow.Builder b = flow.toBuilder();
    b.approvedStep = flow.step();
    b.approvedBy = by;
    log(b, now, "approve", "step " + (flow.step() + 1) + " approved", by, "");
    return b.build();
  }

  /**
   * Rolls back a deploy from any step or from the post-promotion window; repeating it while a
   * rollback runs changes nothing. A test rolls back by ending.
   */
  public static Flow rollback(Flow flow, String by, Instant now) throws FlowException {
    if (flow.phase().rollingBack() || flow.phase() == Phase.ROLLED_BACK
        || flow.phase() == Phase.TEST_ENDING_ROUTE || flow.phase() == Phase.TEST_ENDING_CLEANUP
        || flow.phase() == Phase.TEST_ENDED) {
      return flow;
    }
    if (flow.phase().terminal() || flow.phase() == Phase.ABORTING) {
      throw FlowException.conflict("the flow is " + flow.phase().label()
          + "; there is nothing to roll back");
    }
    Flow.Builder b = flow.toBuilder();
    log(b, now, "rollback", "rollback requested in " + flow.phase().label(), by, "");
    if (flow.kind() == FlowKind.TEST) {
      endTest(b, now, "rollback of the test", by, "");
    } else {
      beginRollback(b, now, "");
    }
    return b.build();
  }

  /** Stops where the flow is: 100 % to main, workloads left as they are. */
  public static Flow abort(Flow flow, String by, Instant now) throws FlowException {
    if (flow.phase() == Phase.ABORTING) {
      return flow;
    }
    if (flow.phase().terminal()) {
      throw FlowException.conflict("the flow already ended (" + flow.phase().label() + ")");
    }
    Flow.Builder b = flow.toBuilder();
    log(b, now, "abort", "aborted in " + flow.phase().label(), by, "");
    route(b, SplitPolicy.OFF, now, "");
    enter(b, Phase.ABORTING, now, "aborting: 100 % to main", "");
    return b.build();
  }

  /** A canary test's new weight; 0 ends the test. 400 above the cap, 409 for a deploy. */
  public static Flow setWeight(Flow flow, double percent, String by, Instant now)
      throws FlowException {
    if (flow.kind() != FlowKind.TEST) {
      throw FlowException.conflict("only a canary test takes a weight; a deploy walks its steps");
    }
    int bp = testWeight(percent, flow.weightCapBasisPoints());
    if (!List.of(Phase.TEST_SCALING, Phase.TEST_ROUTING, Phase.TEST_RUNNING)
        .contains(flow.phase())) {
      throw FlowException.conflict("the test is " + flow.phase().label()
          + "; its weight can no longer change");
    }
    Flow.Builder b = flow.toBuilder();
    if (bp == 0) {
      endTest(b, now, "weight set to 0", by, "");
      return b.build();
    }
    log(b, now, "weight-request", "test weight " + Steps.describe(flow.weightBasisPoints())
        + " -> " + Steps.describe(bp), by, "");
    b.weightBasisPoints = bp;
    if (flow.phase() != Phase.TEST_SCALING) {
      route(b, new SplitPolicy(SplitMode.TEST, bp), now, "");
      enter(b, Phase.TEST_ROUTING, now, "test split " + Steps.describe(bp) + " set", "");
    }
    return b.build();
  }

  /** Ends a canary test as weight 0 does. */
  public static Flow end(Flow flow, String by, Instant now) throws FlowException {
    return setWeight(flow, 0, by, now);
  }

  /** Notes a split forced onto the app over the flow's head (PUT .../split?force=true). */
  public static Flow forcedSplit(Flow flow, String split, String by, Instant now) {
    Flow.Builder b = flow.toBuilder();
    log(b, now, "forced-split", "split forced to " + split + "; the flow waits until the "
        + "proxies serve its own split " + flow.split() + " again", by, "");
    return b.build();
  }

  // ---------------------------------------------------------------------------------------
  // Helpers

  private static boolean workloadsReady(Flow flow, Observation seen) {
    for (Map.Entry<SubsetRole, RoleTarget> entry : flow.workloads().entrySet()) {
      if (!seen.role(entry.getKey()).satisfies(entry.getValue())) {
        return false;
      }
    }
    return true;
  }

  private static boolean roleReady(Flow flow, Observation seen, SubsetRole role) {
    return seen.role(role).satisfies(flow.target(role));
  }

  private static String unready(Flow flow, Observation seen) {
    List<String> waiting = new ArrayList<>();
    for (Map.Entry<SubsetRole, RoleTarget> entry : flow.workloads().entrySet()) {
      RoleStatus status = seen.role(entry.getKey());
      RoleTarget target = entry.getValue();
      if (!status.satisfies(target)) {
        waiting.add(entry.getKey().label() + " " + status.ready() + " of " + target.replicas()
            + " ready at " + target.version() + (status.version().isEmpty()
                || status.version().equals(target.version()) ? "" : " (runs " + status.version()
                + ")") + (status.replicas() != target.replicas() ? ", " + status.replicas()
                + " running" : ""));
      }
    }
    return String.join("; ", waiting);
  }

  private static void scale(Flow.Builder b, SubsetRole role, RoleTarget target, Instant now,
      String acks) {
    RoleTarget previous = b.workloads.getOrDefault(role, RoleTarget.NONE);
    if (!previous.equals(target)) {
      b.workloads.put(role, target);
      log(b, now, "scale", role.label() + " " + previous + " -> " + target, ENGINE, acks);
    }
  }

  private static void route(Flow.Builder b, SplitPolicy split, Instant now, String acks) {
    if (!split.equals(b.split)) {
      log(b, now, "weight", b.split + " -> " + split + " (main/baseline/canary "
          + split.weights() + ")", ENGINE, acks);
      b.split = split;
      b.weightSetAt = now;
    }
  }

  private static void enter(Flow.Builder b, Phase phase, Instant now, String detail,
      String acks) {
    log(b, now, "phase", b.phase.label() + " -> " + phase.label() + ": " + detail, ENGINE, acks);
    b.phase = phase;
    b.phaseSince = now;
    b.waitingFor = "";
  }

  private static void finish(Flow.Builder b, Phase phase, Instant now, String detail,
      String acks) {
    enter(b, phase, now, detail, acks);
    b.endedAt = now;
    b.lagging = List.of();
  }

  /**
   * Entries a flow keeps. A canary test's weight can be set again and again, and every entry is
   * persisted with the flow: past this the oldest go (the first, the start, stays).
   */
  static final int MAX_HISTORY = 1_000;

  private static void log(Flow.Builder b, Instant now, String event, String detail, String by,
      String acks) {
    log(b, now, event, detail, by, acks, null);
  }

  private static void log(Flow.Builder b, Instant now, String event, String detail, String by,
      String acks, Evidence evidence) {
    if (b.history.size() >= MAX_HISTORY) {
      b.history.remove(1);
    }
    b.history.add(new HistoryEntry(now, b.id, event, detail, by, acks, evidence));
  }

  static String describeSteps(List<Integer> steps) {
    return String.join(", ", steps.stream().map(Steps::describe).toList());
  }

  static String describeTargets(Map<SubsetRole, RoleTarget> targets) {
    List<String> parts = new ArrayList<>();
    targets.forEach((role, target) -> parts.add(role.label() + " " + target));
    return String.join(", ", parts);
  }
}
