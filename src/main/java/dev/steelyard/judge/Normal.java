package dev.steelyard.judge;

/** The standard normal distribution, written out so the judge needs no numerics library. */
final class Normal {

  private static final double SQRT_PI = Math.sqrt(Math.PI);

  private Normal() {}

  /** P(Z <= x). */
  static double cdf(double x) {
    return 0.5 * erfc(-x / Math.sqrt(2));
  }

  /**
   * The complementary error function, to about 1e-15 relative: a series without cancellation
   * below 3 and a continued fraction above (the tail, where p-values live).
   */
  static double erfc(double x) {
    if (Double.isNaN(x)) {
      return Double.NaN;
    }
    if (x < 0) {
      return 2 - erfc(-x);
    }
    if (x < 3) {
      // erf(x) = 2/sqrt(pi) exp(-x^2) sum_n (2x^2)^n x / (2n+1)!!, every term positive.
      double term = x;
      double sum = x;
      for (int n = 1; term > 1e-17 * sum; n++) {
        term *= 2 * x * x / (2 * n + 1);
        sum += term;
      }
      return 1 - 2 / SQRT_PI * Math.exp(-x * x) * sum;
    }
    if (x > 27) {
      return 0;
    }
    // erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), from the bottom.
    double fraction = x;
    for (int k = 80; k >= 1; k--) {
      fraction = x + (k / 2.0) / fraction;
    }
    return Math.exp(-x * x) / SQRT_PI / fraction;
  }

  /** The quantile: x with P(Z <= x) = p, by a rational first guess and Halley steps. */
  static double quantile(double p) {
    if (!(p > 0 && p < 1)) {
      if (p == 0) {
        return Double.NEGATIVE_INFINITY;
      }
      if (p == 1) {
        return Double.POSITIVE_INFINITY;
      }
      throw new IllegalArgumentException("probability must be in [0, 1], got " + p);
    }
    double x = firstGuess(p);
    for (int i = 0; i < 3; i++) {
      double error = cdf(x) - p;
      double u = error * Math.sqrt(2 * Math.PI) * Math.exp(x * x / 2);
      x -= u / (1 + x * u / 2);
    }
    return x;
  }

  /** Acklam's rational approximation (about 1e-9), refined by {@link #quantile}. */
  private static double firstGuess(double p) {
    final double[] a = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
        1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    final double[] b = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
        6.680131188771972e+01, -1.328068155288572e+01};
    final double[] c = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
        -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    final double[] d = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
        3.754408661907416e+00};
    double low = 0.02425;
    if (p < low || p > 1 - low) {
      double q = Math.sqrt(-2 * Math.log(Math.min(p, 1 - p)));
      double x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
          / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
      return p < low ? x : -x;
    }
    double q = p - 0.5;
    double r = q * q;
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
        / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
}
