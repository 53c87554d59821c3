package dev.steelyard.judge;

import java.util.List;
import java.util.Locale;

/**
 * Is the canary's error rate higher than the baseline's? A test that may be checked after every
 * interval, as often as wanted, without raising the false alarm rate above alpha.
 *
 * <p>Design: a mixture sequential probability ratio test on the conditional binomial. Given that
 * an error happened, it is the canary's with probability s = canary requests / all requests when
 * both error rates are equal (H0), and with probability rs / (rs + 1 - s) when the canary's rate
 * is r times the baseline's. The evidence is the likelihood ratio of the errors seen so far,
 * averaged over a fixed set of ratios r > 1 (default 1.2, 1.5, 2, 3, 5, 10, equal weights).
 * Under H0 every such ratio, and so their average, is a non-negative martingale with mean 1, so
 * by Ville's inequality the chance that it EVER reaches 1/alpha is at most alpha: checking at
 * every tick is allowed. The always-valid p-value is 1/evidence.
 *
 * <p>Why this one: conditioning on the errors removes the unknown common error rate (no nuisance
 * parameter to estimate, unlike a test on two proportions), the request counts the control plane
 * sees give s exactly, a discrete mixture needs no numerical integration, and the test is
 * stateless on cumulative counts (the engine passes totals; the decision at each tick is the
 * same as if state were kept, because rejecting at the first crossing is what Ville bounds). It
 * is one-sided: a canary with fewer errors is never flagged.
 *
 * <p>Assumption: the canary's share of requests is steady over the window (true of a step whose
 * weights do not change; baseline and canary of a deploy step carry the same weight). s is the
 * cumulative share; a share that drifts makes the null approximate.
 */
public final class SequentialCountTest {

  public static final List<Double> DEFAULT_RATIOS = List.of(1.2, 1.5, 2.0, 3.0, 5.0, 10.0);

  private final double alpha;
  private final long minRequests;
  private final double[] ratios;

  /** alpha 0.05, at least 100 requests on each side, {@link #DEFAULT_RATIOS}. */
  public SequentialCountTest() {
    this(0.05, 100);
  }

  public SequentialCountTest(double alpha, long minRequests) {
    this(alpha, minRequests, DEFAULT_RATIOS);
  }

  public SequentialCountTest(double alpha, long minRequests, List<Double> ratios) {
    if (!(alpha > 0 && alpha < 1)) {
      throw new IllegalArgumentException("alpha must be between 0 and 1, got " + alpha);
    }
    if (minRequests < 0) {
      throw new IllegalArgumentException("minRequests must be 0 or more, got " + minRequests);
    }
    if (ratios.isEmpty() || ratios.stream().anyMatch(r -> !(r > 1) || r.isInfinite())) {
      throw new IllegalArgumentException("ratios must be finite numbers above 1, got " + ratios);
    }
    this.alpha = alpha;
    this.minRequests = minRequests;
    this.ratios = ratios.stream().mapToDouble(Double::doubleValue).toArray();
  }

  public double alpha() {
    return alpha;
  }

  public long minRequests() {
    return minRequests;
  }

  /** The decision on the counts since the window started (cumulative). */
  public CountDecision evaluate(long baselineErrors, long baselineRequests, long canaryErrors,
      long canaryRequests) {
    check("baseline", baselineErrors, baselineRequests);
    check("canary", canaryErrors, canaryRequests);
    double baselineRate = baselineRequests == 0 ? Double.NaN
        : (double) baselineErrors / baselineRequests;
    double canaryRate = canaryRequests == 0 ? Double.NaN
        : (double) canaryErrors / canaryRequests;
    if (baselineRequests < Math.max(1, minRequests) || canaryRequests < Math.max(1,
        minRequests)) {
      return new CountDecision(CountOutcome.NOT_ENOUGH_DATA, 1, 1, alpha, Double.NaN,
          baselineRate, canaryRate, baselineErrors, baselineRequests, canaryErrors,
          canaryRequests, String.format(Locale.ROOT, "waiting for %d requests on each side "
              + "(baseline %d, canary %d)", Math.max(1, minRequests), baselineRequests,
              canaryRequests));
    }
    double share = (double) canaryRequests / ((double) canaryRequests + baselineRequests);
    double logEvidence = logEvidence(baselineErrors, canaryErrors, share);
    double evidence = Math.exp(logEvidence);
    double p = Math.min(1, Math.exp(-logEvidence));
    boolean worse = logEvidence >= Math.log(1 / alpha);
    String rates = String.format(Locale.ROOT, "canary %d/%d errors (%.4g%%), baseline %d/%d "
        + "(%.4g%%), always-valid p %.3g", canaryErrors, canaryRequests, 100 * canaryRate,
        baselineErrors, baselineRequests, 100 * baselineRate, p);
    return new CountDecision(worse ? CountOutcome.CANARY_WORSE : CountOutcome.NO_EVIDENCE_YET,
        p, evidence, alpha, share, baselineRate, canaryRate, baselineErrors, baselineRequests,
        canaryErrors, canaryRequests, worse
            ? "canary error rate is higher: " + rates + " <= alpha " + alpha
            : "no evidence that the canary is worse: " + rates + " > alpha " + alpha);
  }

  /** log of the mixture likelihood ratio; log-sum-exp so thousands of errors do not overflow. */
  double logEvidence(long baselineErrors, long canaryErrors, double share) {
    double[] logs = new double[ratios.length];
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < ratios.length; i++) {
      double theta = ratios[i] * share / (ratios[i] * share + 1 - share);
      logs[i] = canaryErrors * Math.log(theta / share)
          + baselineErrors * Math.log((1 - theta) / (1 - share));
      max = Math.max(max, logs[i]);
    }
    double sum = 0;
    for (double value : logs) {
      sum += Math.exp(value - max);
    }
    return max + Math.log(sum / ratios.length);
  }

  private static void check(String side, long errors, long requests) {
    if (errors < 0 || requests < 0 || errors > requests) {
      throw new IllegalArgumentException(side + ": errors (" + errors + ") must be between 0 "
          + "and the requests (" + requests + ")");
    }
  }
}
