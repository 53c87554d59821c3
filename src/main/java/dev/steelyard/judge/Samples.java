package dev.steelyard.judge;

/** One metric's samples, one per interval; NaN for an interval without data. */
public record Samples(double[] baseline, double[] canary) {

  public Samples {
    baseline = baseline.clone();
    canary = canary.clone();
  }

  @Override
  public double[] baseline() {
    return baseline.clone();
  }

  @Override
  public double[] canary() {
    return canary.clone();
  }
}
