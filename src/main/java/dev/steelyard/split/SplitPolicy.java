package dev.steelyard.split;

import dev.steelyard.view.SubsetWeights;
import java.math.BigDecimal;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * A split as an operator sets it: a mode and the canary weight n in basis points (1 = 0.01 %).
 * This is the one place where n becomes per-subset weights.
 */
public record SplitPolicy(SplitMode mode, int canaryBasisPoints) {

  public static final SplitPolicy OFF = new SplitPolicy(SplitMode.OFF, 0);

  /** Largest n per mode, in basis points. */
  private static int maxBasisPoints(SplitMode mode) {
    return switch (mode) {
      case OFF -> 0;
      case TEST -> SubsetWeights.TOTAL;
      case DEPLOY -> SubsetWeights.TOTAL / 2;
      case ROLLBACK -> SubsetWeights.TOTAL;
    };
  }

  public SplitPolicy {
    if (canaryBasisPoints < 0 || canaryBasisPoints > maxBasisPoints(mode)) {
      throw new IllegalArgumentException(mode + " does not allow " + canaryBasisPoints + " bp");
    }
  }

  /**
   * Validates operator input whose weight may be absent: test and deploy need one, because
   * reading an absent weight as 0 silently sent all traffic to main.
   */
  public static SplitPolicy of(String modeLabel, OptionalDouble canaryPercent)
      throws InvalidSplitException {
    SplitMode mode = SplitMode.fromLabel(modeLabel);
    if (canaryPercent.isEmpty() && mode != SplitMode.OFF) {
      throw new InvalidSplitException("mode " + mode.label() + " needs canaryWeight: 0 <= n <= "
          + maxBasisPoints(mode) / 100);
    }
    return of(modeLabel, canaryPercent.orElse(0));
  }

  /**
   * As {@link #of(String, OptionalDouble)} for a weight read exactly from its text (the REST
   * API's strict JSON): {@code 4.999999999999999999999} is finer than 0.01 %, not 5.
   */
  public static SplitPolicy of(String modeLabel, Optional<BigDecimal> canaryPercent)
      throws InvalidSplitException {
    SplitMode mode = SplitMode.fromLabel(modeLabel);
    if (canaryPercent.isEmpty() && mode != SplitMode.OFF) {
      throw new InvalidSplitException("mode " + mode.label() + " needs canaryWeight: 0 <= n <= "
          + maxBasisPoints(mode) / 100);
    }
    return of(mode, canaryPercent.orElse(BigDecimal.ZERO));
  }

  /**
   * Validates operator input. A weight finer than 0.01 % is rejected rather than rounded, so that
   * what runs is exactly what was asked for.
   */
  public static SplitPolicy of(String modeLabel, double canaryPercent)
      throws InvalidSplitException {
    SplitMode mode = SplitMode.fromLabel(modeLabel);
    if (Double.isNaN(canaryPercent) || Double.isInfinite(canaryPercent)) {
      throw new InvalidSplitException("canaryWeight must be a finite number");
    }
    return of(mode, BigDecimal.valueOf(canaryPercent));
  }

  private static SplitPolicy of(SplitMode mode, BigDecimal exactPercent)
      throws InvalidSplitException {
    BigDecimal percent = exactPercent.stripTrailingZeros();
    if (percent.scale() > 2) {
      throw new InvalidSplitException(
          "canaryWeight " + shown(percent) + " is finer than 0.01 %");
    }
    if (percent.signum() < 0) {
      throw new InvalidSplitException(
          "canaryWeight " + shown(percent) + " is negative");
    }
    switch (mode) {
      case OFF -> {
        if (percent.signum() != 0) {
          throw new InvalidSplitException(
              "mode off takes no canaryWeight (got " + shown(percent) + ")");
        }
      }
      case TEST -> requireAtMost(percent, 100, "test");
      case DEPLOY -> requireAtMost(percent, 50, "deploy");
      case ROLLBACK -> requireAtMost(percent, 100, "rollback");
    }
    return new SplitPolicy(mode, percent.movePointRight(2).intValueExact());
  }

  private static void requireAtMost(BigDecimal percent, int max, String mode)
      throws InvalidSplitException {
    if (percent.compareTo(BigDecimal.valueOf(max)) > 0) {
      throw new InvalidSplitException(
          "canaryWeight " + shown(percent) + " is out of range for mode " + mode
              + ": 0 <= n <= " + max);
    }
  }

  /** A weight in an error message; a huge exponent stays short (1E+999999999, not its digits). */
  private static String shown(BigDecimal percent) {
    return Math.abs(percent.scale()) > 20 ? percent.toString() : percent.toPlainString();
  }

  public double canaryPercent() {
    return SubsetWeights.toPercent(canaryBasisPoints);
  }

  /** The split's weights: off main 100; test 100-n/0/n; deploy 100-2n/n/n; rollback 100-n/n/0. */
  public SubsetWeights weights() {
    int n = canaryBasisPoints;
    return switch (mode) {
      case OFF -> SubsetWeights.ALL_MAIN;
      case TEST -> new SubsetWeights(SubsetWeights.TOTAL - n, 0, n);
      case DEPLOY -> new SubsetWeights(SubsetWeights.TOTAL - 2 * n, n, n);
      case ROLLBACK -> new SubsetWeights(SubsetWeights.TOTAL - n, n, 0);
    };
  }

  @Override
  public String toString() {
    return mode.label() + " " + canaryPercent();
  }
}
