package dev.steelyard.judge;

/** What the sequential count test can say at a check. */
public enum CountOutcome {
  /** The canary's error rate is higher than the baseline's, at the test's alpha. */
  CANARY_WORSE,
  /** Enough traffic, no evidence (yet) that the canary is worse. */
  NO_EVIDENCE_YET,
  /** Fewer requests than the minimum on a side: wait. */
  NOT_ENOUGH_DATA
}
