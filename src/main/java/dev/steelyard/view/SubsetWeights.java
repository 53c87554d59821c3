package dev.steelyard.view;

/**
 * Traffic shares of the three subsets in basis points (1 = 0.01 %), summing to {@link #TOTAL}.
 * Envoy's route weights are integers, so percentages are scaled by 100 and sent as they are.
 */
public record SubsetWeights(int main, int baseline, int canary) {

  public static final int TOTAL = 10_000;
  public static final SubsetWeights ALL_MAIN = new SubsetWeights(TOTAL, 0, 0);

  public SubsetWeights {
    if (main < 0 || baseline < 0 || canary < 0 || main + baseline + canary != TOTAL) {
      throw new IllegalArgumentException(
          "weights must be non-negative and sum to " + TOTAL + ": " + main + "/" + baseline + "/"
              + canary);
    }
  }

  public int get(SubsetRole role) {
    return switch (role) {
      case MAIN -> main;
      case BASELINE -> baseline;
      case CANARY -> canary;
    };
  }

  public static double toPercent(int basisPoints) {
    return basisPoints / 100.0;
  }

  @Override
  public String toString() {
    return toPercent(main) + "/" + toPercent(baseline) + "/" + toPercent(canary);
  }
}
