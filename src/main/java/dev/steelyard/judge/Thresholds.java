package dev.steelyard.judge;

/**
 * Score thresholds: score >= pass is PASS, >= marginal is MARGINAL, below is FAIL. Kayenta
 * requires both (no default); its documented examples (json-formats.md) and Spinnaker's UI use
 * pass 95 and marginal 75, which are {@link #DEFAULT}.
 */
public record Thresholds(double pass, double marginal) {

  public static final Thresholds DEFAULT = new Thresholds(95, 75);
}
