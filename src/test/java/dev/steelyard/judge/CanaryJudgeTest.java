package dev.steelyard.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CanaryJudgeTest {

  private static final double NaN = Double.NaN;
  // Latency-like samples: canary clearly 2x the baseline.
  private static final double[] BASE = {10, 11, 12, 10.5, 11.5, 12.5, 10.2, 11.8, 12.2, 10.8};
  private static final double[] DOUBLE = {20, 22, 24, 21, 23, 25, 20.4, 23.6, 24.4, 21.6};

  private static MetricResult classify(MetricConfig metric, double[] baseline, double[] canary) {
    return CanaryJudge.classify(metric, new Samples(baseline, canary));
  }

  @Test
  void directionDecidesWhetherAChangeFails() {
    MetricConfig latency = MetricConfig.of("latency", "perf", Direction.INCREASE);
    assertThat(classify(latency, BASE, DOUBLE).classification()).isEqualTo(Classification.HIGH);
    assertThat(classify(latency, DOUBLE, BASE).classification()).isEqualTo(Classification.PASS);
    MetricConfig either = MetricConfig.of("latency", "perf", Direction.EITHER);
    assertThat(classify(either, DOUBLE, BASE).classification()).isEqualTo(Classification.LOW);
    MetricConfig successes = MetricConfig.of("ok", "perf", Direction.DECREASE);
    assertThat(classify(successes, DOUBLE, BASE).classification())
        .isEqualTo(Classification.LOW);
    assertThat(classify(successes, BASE, DOUBLE).classification())
        .isEqualTo(Classification.PASS);
  }

  @Test
  void theResultCarriesItsStatistics() {
    MetricResult result = classify(MetricConfig.of("latency", "perf", Direction.INCREASE), BASE,
        DOUBLE);
    assertThat(result.stats()).isNotNull();
    assertThat(result.stats().confidence()).isEqualTo(0.98);
    assertThat(result.stats().lower()).isPositive();
    assertThat(result.stats().estimate()).isBetween(result.stats().lower(),
        result.stats().upper());
    // mean(DOUBLE) / mean(BASE) = 2 exactly by construction.
    assertThat(result.effectSizeRatio()).isCloseTo(2.0, org.assertj.core.api.Assertions.within(
        1e-12));
    assertThat(result.baseline().count()).isEqualTo(10);
    assertThat(result.canary().median()).isEqualTo(22.5);
    assertThat(result.reason()).startsWith("canary higher");
  }

  @Test
  void anAllowedIncreaseAboveTheRatioPasses() {
    MetricConfig tolerant = MetricConfig.of("latency", "perf", Direction.INCREASE)
        .withEffectSize(new EffectSize(2.5, 1, 1, 1));
    assertThat(classify(tolerant, BASE, DOUBLE).classification())
        .isEqualTo(Classification.PASS);
    MetricConfig strict = tolerant.withEffectSize(new EffectSize(1.9, 1, 1, 1));
    assertThat(classify(strict, BASE, DOUBLE).classification()).isEqualTo(Classification.HIGH);
  }

  @Test
  void nanIsRemovedOrReplacedAndCounted() {
    double[] withNan = {10, NaN, 11, NaN, 12};
    MetricResult removed = classify(MetricConfig.of("m", "g", Direction.EITHER), withNan,
        new double[] {10, 11, 12});
    assertThat(removed.baselineNanRemoved()).isEqualTo(2);
    assertThat(removed.baseline().count()).isEqualTo(3);
    assertThat(removed.classification()).isEqualTo(Classification.PASS);
    assertThat(removed.reason()).contains("identical");
    MetricResult replaced = classify(MetricConfig.of("m", "g", Direction.EITHER)
        .withNanStrategy(NanStrategy.REPLACE), withNan, new double[] {10, 11, 12});
    assertThat(replaced.baselineNanReplaced()).isEqualTo(2);
    assertThat(replaced.baselineNanRemoved()).isZero();
    assertThat(replaced.baseline().count()).isEqualTo(5);
    assertThat(replaced.baseline().min()).isEqualTo(0);
    MetricResult allNan = classify(MetricConfig.of("m", "g", Direction.EITHER),
        new double[] {NaN, NaN}, new double[] {1});
    assertThat(allNan.classification()).isEqualTo(Classification.NODATA);
    assertThat(allNan.reason()).isEqualTo("no data for the baseline");
  }

  @Test
  void outliersOutsideTheIqrFencesAreRemoved() {
    // Baseline 1..8 and 100: Q1 = 3, Q3 = 7, IQR 4, fences 3-12 = -9 and 7+12 = 19.
    double[] baseline = {1, 2, 3, 4, 5, 6, 7, 8, 100};
    MetricResult result = classify(MetricConfig.of("m", "g", Direction.EITHER)
        .withOutliers(true, 3), baseline, new double[] {1, 2, 3, 4, 5, 6, 7, 8});
    assertThat(result.baselineOutliersRemoved()).isEqualTo(1);
    assertThat(result.baseline().max()).isEqualTo(8);
    assertThat(result.classification()).isEqualTo(Classification.PASS);
    // A factor of 23 puts the high fence at 7 + 92 = 99: 100 is still out; 24 keeps it.
    assertThat(classify(MetricConfig.of("m", "g", Direction.EITHER).withOutliers(true, 23),
        baseline, baseline).baselineOutliersRemoved()).isEqualTo(1);
    assertThat(classify(MetricConfig.of("m", "g", Direction.EITHER).withOutliers(true, 24),
        baseline, baseline).baselineOutliersRemoved()).isZero();
  }

  @Test
  void aCriticalFailureFailsTheRunWhateverTheScore() {
    JudgeConfig config = new JudgeConfig(List.of(
        MetricConfig.of("errors", "errors", Direction.INCREASE).withCritical(true),
        MetricConfig.of("a", "perf", Direction.EITHER),
        MetricConfig.of("b", "perf", Direction.EITHER)),
        Map.of("errors", 10.0, "perf", 90.0), null);
    JudgeResult result = CanaryJudge.judge(config, Map.of(
        "errors", new Samples(BASE, DOUBLE),
        "a", new Samples(BASE, BASE),
        "b", new Samples(BASE, BASE)));
    assertThat(result.outcome()).isEqualTo(Outcome.FAIL);
    assertThat(result.score()).isZero();
    assertThat(result.summary()).startsWith("FAIL: critical metric errors is HIGH");
    // Not critical: the same data is just one failing group of weight 10 -> 90, MARGINAL.
    JudgeConfig plain = new JudgeConfig(List.of(
        MetricConfig.of("errors", "errors", Direction.INCREASE),
        MetricConfig.of("a", "perf", Direction.EITHER),
        MetricConfig.of("b", "perf", Direction.EITHER)),
        Map.of("errors", 10.0, "perf", 90.0), null);
    JudgeResult marginal = CanaryJudge.judge(plain, Map.of(
        "errors", new Samples(BASE, DOUBLE),
        "a", new Samples(BASE, BASE),
        "b", new Samples(BASE, BASE)));
    assertThat(marginal.score()).isEqualTo(90);
    assertThat(marginal.outcome()).isEqualTo(Outcome.MARGINAL);
    assertThat(marginal.groups()).extracting(GroupResult::name, GroupResult::score,
        GroupResult::weight).containsExactly(
            org.assertj.core.groups.Tuple.tuple("errors", 0.0, 10.0),
            org.assertj.core.groups.Tuple.tuple("perf", 100.0, 90.0));
  }

  @Test
  void thresholdsAndWeightsDecideTheVerdict() {
    // Three groups, unweighted ones share what is left: 50 given, 25 each for the other two.
    JudgeConfig config = new JudgeConfig(List.of(
        MetricConfig.of("a", "one", Direction.INCREASE),
        MetricConfig.of("b", "two", Direction.INCREASE),
        MetricConfig.of("c", "three", Direction.INCREASE)),
        Map.of("one", 50.0), new Thresholds(80, 60));
    assertThat(config.resolvedWeights()).containsExactly(Map.entry("one", 50.0),
        Map.entry("two", 25.0), Map.entry("three", 25.0));
    JudgeResult twoFailing = CanaryJudge.judge(config, Map.of(
        "a", new Samples(BASE, BASE), "b", new Samples(BASE, DOUBLE),
        "c", new Samples(BASE, BASE)));
    assertThat(twoFailing.score()).isEqualTo(75);
    assertThat(twoFailing.outcome()).isEqualTo(Outcome.MARGINAL);
    JudgeResult oneFailing = CanaryJudge.judge(config, Map.of(
        "a", new Samples(BASE, DOUBLE), "b", new Samples(BASE, BASE),
        "c", new Samples(BASE, BASE)));
    assertThat(oneFailing.score()).isEqualTo(50);
    assertThat(oneFailing.outcome()).isEqualTo(Outcome.FAIL);
    JudgeResult allPass = CanaryJudge.judge(config, Map.of(
        "a", new Samples(BASE, BASE), "b", new Samples(BASE, BASE),
        "c", new Samples(BASE, BASE)));
    assertThat(allPass.outcome()).isEqualTo(Outcome.PASS);
    assertThat(allPass.summary()).isEqualTo("PASS: score 100 >= pass 80");
  }

  @Test
  void noDataIsNeverAPass() {
    JudgeConfig config = new JudgeConfig(List.of(MetricConfig.of("a", "g", Direction.EITHER),
        MetricConfig.of("b", "g", Direction.EITHER)), null, null);
    JudgeResult none = CanaryJudge.judge(config, Map.of());
    assertThat(none.outcome()).isEqualTo(Outcome.NODATA);
    assertThat(none.score()).isZero();
    JudgeResult half = CanaryJudge.judge(config, Map.of("a", new Samples(BASE, BASE)));
    assertThat(half.outcome()).isEqualTo(Outcome.NODATA);
    assertThat(half.summary()).isEqualTo("NODATA: 1 of 2 metrics have no data");
    // mustHaveData: the missing metric fails its group instead.
    JudgeConfig required = new JudgeConfig(List.of(MetricConfig.of("a", "g", Direction.EITHER),
        MetricConfig.of("b", "g", Direction.EITHER).withMustHaveData(true)), null, null);
    JudgeResult failing = CanaryJudge.judge(required, Map.of("a", new Samples(BASE, BASE)));
    assertThat(failing.metrics().get(1).classification())
        .isEqualTo(Classification.NODATA_FAIL);
    assertThat(failing.score()).isEqualTo(50);
    assertThat(failing.outcome()).isEqualTo(Outcome.FAIL);
  }

  @Test
  void badConfigsAreRefusedWithWhere() {
    MetricConfig a = MetricConfig.of("a", "g", Direction.EITHER);
    assertThatThrownBy(() -> new JudgeConfig(List.of(a, a), null, null))
        .hasMessage("metrics: the name 'a' is used twice");
    assertThatThrownBy(() -> new JudgeConfig(List.of(a), Map.of("x", 100.0), null))
        .hasMessageStartingWith("groupWeights.x: no metric is in this group");
    assertThatThrownBy(() -> new JudgeConfig(List.of(a), Map.of("g", 90.0), null))
        .hasMessage("groupWeights: every group has a weight, so they must total 100, got 90.0");
    assertThatThrownBy(() -> new JudgeConfig(List.of(a), null, new Thresholds(50, 70)))
        .hasMessageStartingWith("thresholds: marginal (70.0) must not be above pass");
  }
}
