package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

/**
 * Statistical checks of observed splits. Each RPC picks a cluster independently, so the count
 * of a role with weight p over n RPCs is binomial: mean np, sigma sqrt(np(1-p)). Within 5 sigma
 * a correct split fails about once in 1.7 million runs. The test catches gross errors (a wrong
 * mode, swapped roles, a share sent to the wrong subset): at n = 10,000 and p = 0.1, 5 sigma is
 * 150 RPCs, so weights closer than about 1.5 points apart cannot be told apart this way; exact
 * weights are checked on the resources themselves.
 */
public final class Binomial {

  private Binomial() {}

  public static void assertSplit(Map<String, Integer> counts, int n, double main, double baseline,
      double canary) {
    assertThat(counts.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(n);
    assertRole(counts, "main", n, main);
    assertRole(counts, "baseline", n, baseline);
    assertRole(counts, "canary", n, canary);
  }

  private static void assertRole(Map<String, Integer> counts, String role, int n, double p) {
    int observed = counts.getOrDefault(role, 0);
    if (p == 0 || p == 1) {
      assertThat(observed).as("%s of %d RPCs (%s)", role, n, counts)
          .isEqualTo((int) Math.round(n * p));
      return;
    }
    double mean = n * p;
    double sigma = Math.sqrt(n * p * (1 - p));
    assertThat((double) observed)
        .as("%s of %d RPCs, expected %.0f +- 5 sigma (%.1f): %s", role, n, mean, 5 * sigma, counts)
        .isBetween(mean - 5 * sigma, mean + 5 * sigma);
  }
}
