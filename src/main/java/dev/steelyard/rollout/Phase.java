package dev.steelyard.rollout;

import java.util.Locale;

/**
 * Where a flow is. Every phase but the terminal ones waits for one thing, which
 * {@link FlowMachine} checks on each tick; the flow's {@code waitingFor} says what in words.
 */
public enum Phase {
  /** Deploy: baseline and canary (and main from step 2) sized for the step; waiting ready. */
  STEP_SCALING,
  /** Deploy: the step's split is set; waiting until every connected proxy ACKed it. */
  STEP_ROUTING,
  /** Deploy: not ACKed within the timeout; not judged; resumes once the laggards ACK. */
  STEP_ACK_PAUSED,
  /** Deploy: the step's analysis window; the judge decides continue or roll back. */
  STEP_JUDGING,
  /** Deploy: main updated to the new version at R replicas; waiting ready. */
  PROMOTING_MAIN,
  /** Deploy: 100 % to main; waiting for the ACKs. */
  PROMOTING_ROUTE,
  /** Deploy: baseline and canary scaled to 0; waiting until they are gone. */
  PROMOTING_CLEANUP,
  /** Deploy: promoted; the post-promotion window keeps a one-call rollback open. */
  PROMOTED,
  /** Rollback: the old version must run somewhere before traffic moves (after promotion). */
  ROLLBACK_PREPARE,
  /** Rollback: new-version shares moved to old-version subsets; waiting for the ACKs. */
  ROLLBACK_SHIFT,
  /** Rollback: main restored (old version, R replicas); waiting ready. */
  ROLLBACK_RESTORE,
  /** Rollback: 100 % to main; waiting for the ACKs. */
  ROLLBACK_ROUTE,
  /** Rollback: baseline and canary scaled to 0. */
  ROLLBACK_CLEANUP,
  /** Test: canary sized; waiting ready. */
  TEST_SCALING,
  /** Test: the test split is set; waiting for the ACKs. */
  TEST_ROUTING,
  /** Test: n % goes to the canary until the weight changes, the test ends or its time runs out. */
  TEST_RUNNING,
  /** Test ending: 100 % to main; waiting for the ACKs. */
  TEST_ENDING_ROUTE,
  /** Test ending: canary scaled to 0. */
  TEST_ENDING_CLEANUP,
  /** Abort: 100 % to main, workloads left as they are; waiting for the ACKs. */
  ABORTING,
  COMPLETED,
  ROLLED_BACK,
  TEST_ENDED,
  ABORTED;

  public boolean terminal() {
    return this == COMPLETED || this == ROLLED_BACK || this == TEST_ENDED || this == ABORTED;
  }

  public boolean rollingBack() {
    return name().startsWith("ROLLBACK_");
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
