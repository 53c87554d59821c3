package dev.steelyard.rollout;

import java.time.Instant;

/**
 * Judges a canary deploy's step over its analysis window, which started at
 * {@code windowStart} (when every proxy had ACKed the step's weights). Called on every engine tick
 * while the step is being judged, so it must be cheap or cache its answer; it must not change
 * the flow, only say what it thinks. An automatic judge (metrics from LRS or Prometheus) is one
 * more implementation, registered by name.
 */
@FunctionalInterface
public interface Judge {

  Verdict judge(Flow flow, Instant windowStart, Instant now);

  /** What is wrong with {@code judgment} for this judge, in words, or null: checked at start. */
  default String problem(Judgment judgment) {
    return null;
  }

  /** An operator approves: the step continues once {@code approve} was called for it. */
  Judge MANUAL = (flow, windowStart, now) -> flow.approvedStep() >= flow.step()
      ? Verdict.proceed("approved by " + flow.approvedBy())
      : Verdict.pending("approval of step " + (flow.step() + 1) + " ("
          + Steps.describe(flow.stepsBasisPoints().get(flow.step())) + " %): steelyard rollout "
          + "approve " + flow.app());

  /** A timed pause: continue once {@code judgment.pause} has passed since the window started. */
  Judge PAUSE = (flow, windowStart, now) -> {
    Instant until = windowStart.plus(flow.judgment().pause());
    return now.isBefore(until) ? Verdict.pending("the pause of step " + (flow.step() + 1)
        + " to end at " + until) : Verdict.proceed("paused " + flow.judgment().pause());
  };
}
