package dev.steelyard.judge;

import java.util.Arrays;

/** Descriptive statistics of one side's samples after NaN and outlier handling. */
public record SampleSummary(int count, double mean, double median, double min, double max,
    double stdev) {

  /** Zeros for an empty side, as Kayenta reports them. */
  public static SampleSummary of(double[] values) {
    if (values.length == 0) {
      return new SampleSummary(0, 0, 0, 0, 0, 0);
    }
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    double sum = 0;
    for (double v : sorted) {
      sum += v;
    }
    double mean = sum / sorted.length;
    double squares = 0;
    for (double v : sorted) {
      squares += (v - mean) * (v - mean);
    }
    double stdev = sorted.length > 1 ? Math.sqrt(squares / (sorted.length - 1)) : 0;
    return new SampleSummary(sorted.length, mean, percentile(sorted, 50), sorted[0],
        sorted[sorted.length - 1], stdev);
  }

  /**
   * The p-th percentile of sorted values, linear between order statistics (R's type 7, the
   * estimator Kayenta uses for medians and quartiles).
   */
  static double percentile(double[] sorted, double p) {
    double h = (sorted.length - 1) * p / 100;
    int low = (int) Math.floor(h);
    int high = Math.min(low + 1, sorted.length - 1);
    return sorted[low] + (h - low) * (sorted[high] - sorted[low]);
  }
}
