package dev.steelyard.rollout;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/** Canary deploy steps: percentages to basis points, validated (increasing, 0 < n <= 50). */
public final class Steps {

  public static final List<Double> DEFAULT = List.of(1.0, 10.0, 25.0, 50.0);

  private Steps() {}

  public static List<Integer> toBasisPoints(List<Double> percents) throws FlowException {
    if (percents.isEmpty()) {
      throw FlowException.badRequest("steps must not be empty");
    }
    List<Integer> basisPoints = new ArrayList<>();
    int previous = 0;
    for (Double percent : percents) {
      int bp = basisPoints("step", percent, 50);
      if (bp <= previous) {
        throw FlowException.badRequest("steps must be increasing and above 0: " + percents);
      }
      basisPoints.add(bp);
      previous = bp;
    }
    return List.copyOf(basisPoints);
  }

  /** A percentage 0 <= n <= max with at most two decimals, in basis points. */
  public static int basisPoints(String what, Double percent, int max) throws FlowException {
    if (percent == null || percent.isNaN() || percent.isInfinite()) {
      throw FlowException.badRequest(what + " must be a number");
    }
    BigDecimal value = BigDecimal.valueOf(percent).stripTrailingZeros();
    if (value.scale() > 2) {
      throw FlowException.badRequest(what + " " + value.toPlainString() + " is finer than 0.01 %");
    }
    if (value.signum() < 0 || value.compareTo(BigDecimal.valueOf(max)) > 0) {
      throw FlowException.badRequest(what + " " + value.toPlainString()
          + " is out of range: 0 <= n <= " + max);
    }
    return value.movePointRight(2).intValueExact();
  }

  public static String describe(int basisPoints) {
    return BigDecimal.valueOf(basisPoints, 2).stripTrailingZeros().toPlainString();
  }
}
