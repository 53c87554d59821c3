package dev.steelyard.judge;

import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Simulates {@link SequentialCountTest} checked after every interval: the false alarm rate of
 * A/A runs (both sides at the baseline's error rate) and the power against a canary with twice
 * the error rate, at the traffic of a 1 % deploy step. Beside it, the naive alternative: a
 * fixed-sample one-sided two-proportion z-test at the same alpha, checked just as often.
 *
 * <p>Run: {@code mvn -B -q -o test-compile && java -cp target/test-classes:target/classes
 * dev.steelyard.judge.SequentialSimulation [runs]}.
 */
public final class SequentialSimulation {

  static final double TOTAL_RPS = 1000;
  static final double STEP_SHARE = 0.01;
  static final int INTERVAL_SECONDS = 10;
  static final int INTERVALS = 180;
  static final double BASELINE_ERROR_RATE = 0.01;

  private SequentialSimulation() {}

  public static void main(String[] args) {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    long started = System.nanoTime();
    int requestsPerInterval = (int) (TOTAL_RPS * INTERVAL_SECONDS);
    System.out.printf(Locale.ROOT, "traffic: %.0f req/s in all, baseline and canary %.0f %% "
            + "each (a 1 %% deploy step: main 98, baseline 1, canary 1), so each request goes "
            + "to the canary with p = %.2f (binomial of %d per interval); %d s intervals, %d "
            + "checks (%d min); baseline error rate %.0f %%; minimum 100 requests a side; "
            + "%d runs per row; seed 2026%n%n", TOTAL_RPS, 100 * STEP_SHARE, STEP_SHARE,
        requestsPerInterval, INTERVAL_SECONDS, INTERVALS, INTERVALS * INTERVAL_SECONDS / 60,
        100 * BASELINE_ERROR_RATE, runs);
    System.out.println("| test | alpha | canary error rate | alarms (any check in 30 min) | "
        + "95 % interval | within 10 min | median time to alarm | 90th percentile |");
    System.out.println("|---|---|---|---|---|---|---|---|");
    for (double alpha : new double[] {0.05, 0.01}) {
      SequentialCountTest test = new SequentialCountTest(alpha, 100);
      row("mixture SPRT", alpha, runs, (random, canaryRate) ->
          alarmAt(test, random, requestsPerInterval, BASELINE_ERROR_RATE, canaryRate,
              INTERVALS));
      row("z-test, re-checked", alpha, runs, (random, canaryRate) ->
          naiveAlarmAt(alpha, random, requestsPerInterval, BASELINE_ERROR_RATE, canaryRate,
              INTERVALS));
    }
    System.out.printf(Locale.ROOT, "%ntook %.1f s%n", (System.nanoTime() - started) / 1e9);
  }

  private interface Run {
    int alarmAt(SplittableRandom random, double canaryRate);
  }

  private static void row(String name, double alpha, int runs, Run run) {
    for (double canaryRate : new double[] {BASELINE_ERROR_RATE, 2 * BASELINE_ERROR_RATE}) {
      SplittableRandom random = new SplittableRandom(2026);
      int[] times = new int[runs];
      int alarms = 0;
      int early = 0;
      for (int i = 0; i < runs; i++) {
        int at = run.alarmAt(random, canaryRate);
        if (at >= 0) {
          times[alarms++] = at;
          early += at < 60 ? 1 : 0;
        }
      }
      double rate = (double) alarms / runs;
      double half = 1.96 * Math.sqrt(rate * (1 - rate) / runs);
      int[] sorted = Arrays.copyOf(times, alarms);
      Arrays.sort(sorted);
      String median = alarms == 0 ? "-" : seconds(sorted[alarms / 2]);
      String p90 = alarms == 0 ? "-" : seconds(sorted[(int) (alarms * 0.9)]);
      System.out.printf(Locale.ROOT, "| %s | %.2f | %.0f %% (%s) | %.4f | %.4f-%.4f | %.4f | "
              + "%s | %s |%n", name, alpha, 100 * canaryRate,
          canaryRate == BASELINE_ERROR_RATE ? "A/A" : "2x", rate, Math.max(0, rate - half),
          rate + half, (double) early / runs, median, p90);
    }
  }

  private static String seconds(int interval) {
    return (interval + 1) * INTERVAL_SECONDS + " s";
  }

  /**
   * One run: the index of the first interval whose check says CANARY_WORSE, or -1. Each of the
   * interval's requests goes to baseline and to canary with {@link #STEP_SHARE} each.
   */
  static int alarmAt(SequentialCountTest test, SplittableRandom random, int requestsPerInterval,
      double baselineRate, double canaryRate, int intervals) {
    long baselineErrors = 0;
    long baselineRequests = 0;
    long canaryErrors = 0;
    long canaryRequests = 0;
    for (int interval = 0; interval < intervals; interval++) {
      int baseline = binomial(random, requestsPerInterval, STEP_SHARE);
      int canary = binomial(random, requestsPerInterval, STEP_SHARE);
      baselineRequests += baseline;
      canaryRequests += canary;
      baselineErrors += binomial(random, baseline, baselineRate);
      canaryErrors += binomial(random, canary, canaryRate);
      if (test.evaluate(baselineErrors, baselineRequests, canaryErrors, canaryRequests)
          .outcome() == CountOutcome.CANARY_WORSE) {
        return interval;
      }
    }
    return -1;
  }

  /** As {@link #alarmAt}, with a one-sided pooled two-proportion z-test at every check. */
  static int naiveAlarmAt(double alpha, SplittableRandom random, int requestsPerInterval,
      double baselineRate, double canaryRate, int intervals) {
    double critical = Normal.quantile(1 - alpha);
    long baselineErrors = 0;
    long baselineRequests = 0;
    long canaryErrors = 0;
    long canaryRequests = 0;
    for (int interval = 0; interval < intervals; interval++) {
      int baseline = binomial(random, requestsPerInterval, STEP_SHARE);
      int canary = binomial(random, requestsPerInterval, STEP_SHARE);
      baselineRequests += baseline;
      canaryRequests += canary;
      baselineErrors += binomial(random, baseline, baselineRate);
      canaryErrors += binomial(random, canary, canaryRate);
      if (baselineRequests < 100 || canaryRequests < 100) {
        continue;
      }
      double pooled = (double) (baselineErrors + canaryErrors)
          / (baselineRequests + canaryRequests);
      double se = Math.sqrt(pooled * (1 - pooled)
          * (1.0 / baselineRequests + 1.0 / canaryRequests));
      double z = se == 0 ? 0 : ((double) canaryErrors / canaryRequests
          - (double) baselineErrors / baselineRequests) / se;
      if (z >= critical) {
        return interval;
      }
    }
    return -1;
  }

  /** A binomial draw by inversion of the cumulative distribution (n * p is small here). */
  static int binomial(SplittableRandom random, int n, double p) {
    if (n == 0 || p == 0) {
      return 0;
    }
    double u = random.nextDouble();
    double odds = p / (1 - p);
    double probability = Math.pow(1 - p, n);
    double cumulative = probability;
    int k = 0;
    while (u > cumulative && k < n) {
      probability *= odds * (n - k) / (k + 1);
      k++;
      cumulative += probability;
      if (probability == 0 && cumulative < u) {
        break;
      }
    }
    return k;
  }
}
