package dev.steelyard.split;

import java.util.Locale;

/**
 * The two canary flows, no split at all, and the rollout engine's rollback shift (the canary's
 * share moved to the old-version subsets while main is restored).
 */
public enum SplitMode {
  /** main 100. */
  OFF,
  /** Canary test: main 100-n, canary n. */
  TEST,
  /** Canary deploy: main 100-2n, baseline n, canary n. */
  DEPLOY,
  /** Rollback of a canary deploy: main 100-n, baseline n, canary 0 (set by the rollout engine). */
  ROLLBACK;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static SplitMode fromLabel(String label) throws InvalidSplitException {
    for (SplitMode mode : values()) {
      if (mode.label().equals(label)) {
        return mode;
      }
    }
    if (label == null || label.isEmpty()) {
      throw new InvalidSplitException("mode is required: off, test or deploy");
    }
    throw new InvalidSplitException("unknown mode '" + label + "': expected off, test or deploy"
        + " (or rollback: main 100-n, baseline n)");
  }
}
