package dev.steelyard.rollout;

import java.util.Locale;

/**
 * Replica counts of a canary deploy's step, from R (main's replicas when the flow started) and
 * the step's weight n. A flow names its sizing in the start request ({@code "sizing"}); a new
 * rule is one more constant here.
 */
public enum Sizing {
  /**
   * The original Helm charts: baseline and canary {@code R*n/100 + 1} each; main R at the first
   * step and {@code R*(100-2n)/100 + 1} from the second (integer division).
   */
  HELM {
    @Override
    int main(int r, int basisPoints, int step) {
      return step == 0 ? r : r * (10_000 - 2 * basisPoints) / 10_000 + 1;
    }
  },
  /** Baseline and canary as in HELM, main kept at R: more capacity, never less on main. */
  KEEP_MAIN {
    @Override
    int main(int r, int basisPoints, int step) {
      return r;
    }
  };

  /** Baseline and canary replicas: {@code R*n/100 + 1}. */
  int side(int r, int basisPoints) {
    return r * basisPoints / 10_000 + 1;
  }

  abstract int main(int r, int basisPoints, int step);

  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  public static Sizing fromLabel(String label) throws FlowException {
    if (label == null || label.isEmpty()) {
      return HELM;
    }
    for (Sizing sizing : values()) {
      if (sizing.label().equals(label)) {
        return sizing;
      }
    }
    throw FlowException.badRequest("sizing must be helm or keep-main, not '" + label + "'");
  }
}
