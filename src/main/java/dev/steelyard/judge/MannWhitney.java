package dev.steelyard.judge;

import java.util.Arrays;

/**
 * The two-sample Mann-Whitney U test (Wilcoxon rank-sum) with the Hodges-Lehmann estimate of the
 * location shift and its confidence interval, in the normal approximation Kayenta uses for every
 * sample size:
 * <ul>
 *   <li>U counts the pairs (canary, baseline) with canary above baseline, ties counting a half;
 *   its variance has the usual tie correction, mn/12 * (m+n+1 - sum(t^3-t) / ((m+n)(m+n-1))).
 *   <li>p-value: two-sided, z = (U - mn/2 -+ 0.5) / sigma with the continuity correction.
 *   <li>estimate: the median of the m*n differences canary_i - baseline_j.
 *   <li>interval: the k-th smallest and k-th largest of those differences, with
 *   k = floor(mn/2 - 0.5 - z(1-a/2) * sigma) + 1 (at least 1): the shifts the corrected
 *   statistic would not reject at level a, read off the sorted differences exactly.
 * </ul>
 * Kayenta (like R's wilcox.test) finds the same points with a root finder on the standardized
 * statistic, so its figures differ from these by the solver's tolerance, and where the statistic
 * is flat (an even number of differences) it returns some point of the flat stretch; here that
 * is its midpoint. The tie correction is taken from the samples as given; R and Kayenta recompute
 * it at each trial shift. Memory is O(m*n).
 */
public final class MannWhitney {

  private MannWhitney() {}

  /** Compares canary with baseline; both non-empty, without NaN, not all values equal. */
  public static MannWhitneyResult test(double[] canary, double[] baseline, double confidence) {
    int m = canary.length;
    int n = baseline.length;
    if (m == 0 || n == 0) {
      throw new IllegalArgumentException("both samples need at least one value");
    }
    double[] pooled = new double[m + n];
    System.arraycopy(canary, 0, pooled, 0, m);
    System.arraycopy(baseline, 0, pooled, m, n);
    double[] sorted = pooled.clone();
    Arrays.sort(sorted);
    double tieTerm = 0;
    for (int i = 0; i < sorted.length; ) {
      int j = i;
      while (j + 1 < sorted.length && sorted[j + 1] == sorted[i]) {
        j++;
      }
      double t = j - i + 1;
      tieTerm += t * t * t - t;
      i = j + 1;
    }
    double u = 0;
    for (double c : canary) {
      for (double b : baseline) {
        u += c > b ? 1 : c == b ? 0.5 : 0;
      }
    }
    double mn = (double) m * n;
    double total = m + n;
    double variance = mn / 12 * ((total + 1) - tieTerm / (total * (total - 1)));
    if (!(variance > 0)) {
      throw new IllegalArgumentException("all observations are tied; no rank test possible");
    }
    double sigma = Math.sqrt(variance);
    double centered = u - mn / 2;
    double z = (centered - 0.5 * Math.signum(centered)) / sigma;
    double p = Math.min(1, 2 * Normal.cdf(-Math.abs(z)));

    double[] differences = new double[(int) Math.min(Integer.MAX_VALUE - 8, (long) m * n)];
    if ((long) m * n != differences.length) {
      throw new IllegalArgumentException("samples too large: " + m + " x " + n);
    }
    int index = 0;
    for (double c : canary) {
      for (double b : baseline) {
        differences[index++] = c - b;
      }
    }
    Arrays.sort(differences);
    int count = differences.length;
    double estimate = count % 2 == 1 ? differences[count / 2]
        : (differences[count / 2 - 1] + differences[count / 2]) / 2;
    double quantile = Normal.quantile(1 - (1 - confidence) / 2);
    long k = (long) Math.floor(mn / 2 - 0.5 - quantile * sigma) + 1;
    k = Math.max(1, Math.min(k, (count + 1) / 2));
    double lower = differences[(int) k - 1];
    double upper = differences[count - (int) k];
    return new MannWhitneyResult(p, estimate, lower, upper, confidence, u, z);
  }
}
