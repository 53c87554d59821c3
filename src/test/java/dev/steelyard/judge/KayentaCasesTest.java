package dev.steelyard.judge;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Cases from Kayenta's own tests (spinnaker/kayenta kayenta-judge ClassifierSuite and
 * ScorerSuite): the same samples and settings, the same classifications and scores. The
 * classifier there takes tolerance and confidence as parameters (0.10 and 0.95 in these tests).
 */
class KayentaCasesTest {

  private static final double[] SMALL_HIGH = {20.0, 22.0, 21.0, 25.0, 30.0};
  private static final double[] SMALL_CONTROL = {1.0, 2.2, 1.1, 2.5, 3.0};

  private static MetricConfig metric(Direction direction) {
    return MetricConfig.of("m", "g", direction).withTolerance(0.10).withConfidence(0.95);
  }

  private static MetricResult classify(MetricConfig metric, double[] control,
      double[] experiment) {
    return CanaryJudge.classify(metric, new Samples(control, experiment));
  }

  @Test
  void passHighAndLowMetrics() {
    // ClassifierSuite "Mann-Whitney Classifier Test: Pass/High/Low Metric", direction either.
    assertThat(classify(metric(Direction.EITHER), KayentaCases.PASS_CONTROL,
        KayentaCases.PASS_EXPERIMENT).classification()).isEqualTo(Classification.PASS);
    assertThat(classify(metric(Direction.EITHER), KayentaCases.HIGH_CONTROL,
        KayentaCases.HIGH_EXPERIMENT).classification()).isEqualTo(Classification.HIGH);
    assertThat(classify(metric(Direction.EITHER), KayentaCases.LOW_CONTROL,
        KayentaCases.LOW_EXPERIMENT).classification()).isEqualTo(Classification.LOW);
  }

  @Test
  void directionalTests() {
    // ClassifierSuite "Directional Test: Increase/Decrease": a low canary passes "increase",
    // a high one passes "decrease"; "Directional Test: High/Low Metric" keep their labels.
    assertThat(classify(metric(Direction.INCREASE), KayentaCases.LOW_CONTROL,
        KayentaCases.LOW_EXPERIMENT).classification()).isEqualTo(Classification.PASS);
    assertThat(classify(metric(Direction.DECREASE), KayentaCases.HIGH_CONTROL,
        KayentaCases.HIGH_EXPERIMENT).classification()).isEqualTo(Classification.PASS);
    MetricResult high = classify(metric(Direction.INCREASE), KayentaCases.HIGH_CONTROL,
        KayentaCases.HIGH_EXPERIMENT);
    assertThat(high.classification()).isEqualTo(Classification.HIGH);
    assertThat(high.critical()).isFalse();
    assertThat(classify(metric(Direction.DECREASE), KayentaCases.LOW_CONTROL,
        KayentaCases.LOW_EXPERIMENT).classification()).isEqualTo(Classification.LOW);
  }

  @Test
  void meanRatioEffectSizes() {
    // ClassifierSuite "Mean Ratio Effect Size: High": allowed (0.8 decrease, 1.2 increase).
    assertThat(classify(metric(Direction.EITHER).withEffectSize(new EffectSize(1.2, 0.8, 1, 1)),
        SMALL_CONTROL, SMALL_HIGH).classification()).isEqualTo(Classification.HIGH);
    // "Mean Ratio Effect Size: Pass": canary about 0.68x, allowed decrease 0.5 -> PASS.
    MetricResult pass = classify(metric(Direction.EITHER)
            .withEffectSize(new EffectSize(1.0, 0.5, 1, 1)),
        new double[] {20.0, 22.0, 21.0, 25.0, 30.0}, new double[] {10.0, 12.2, 10.1, 12.5, 23.0});
    assertThat(pass.classification()).isEqualTo(Classification.PASS);
    assertThat(pass.effectSizeRatio()).isEqualTo(67.8 / 118.0);
  }

  @Test
  void criticalEffectSizes() {
    // "Critical Effect Size: Critical High": critical increase 1.2 -> HIGH and critical.
    MetricResult criticalHigh = classify(metric(Direction.EITHER).withCritical(true)
        .withEffectSize(new EffectSize(1, 1, 1.2, 1)), SMALL_CONTROL, SMALL_HIGH);
    assertThat(criticalHigh.classification()).isEqualTo(Classification.HIGH);
    assertThat(criticalHigh.critical()).isTrue();
    // "Critical Effect Size: Critical Low": experiment {2,2,2,2,3}, critical decrease 1.2.
    MetricResult criticalLow = classify(metric(Direction.EITHER).withCritical(true)
            .withEffectSize(new EffectSize(1, 1, 1, 1.2)),
        new double[] {10.0, 20.2, 10.1, 20.5, 30.0}, new double[] {2.0, 2.0, 2.0, 2.0, 3.0});
    assertThat(criticalLow.classification()).isEqualTo(Classification.LOW);
    assertThat(criticalLow.critical()).isTrue();
    // "Critical Effect Size: High": allowed increase 5, critical 13; the mean ratio is
    // 23.6 / 1.96 = 12.04, in [5, 13): HIGH but not critical, as Kayenta expects.
    MetricResult high = classify(metric(Direction.EITHER).withCritical(true)
        .withEffectSize(new EffectSize(5, 1, 13, 1)), SMALL_CONTROL, SMALL_HIGH);
    assertThat(high.effectSizeRatio()).isEqualTo(118.0 / 9.8);
    assertThat(high.classification()).isEqualTo(Classification.HIGH);
    assertThat(high.critical()).isFalse();
    // "Critical Effect Size: Pass": allowed increase 13 is above the ratio 12.04 -> PASS.
    MetricResult pass = classify(metric(Direction.EITHER).withCritical(true)
        .withEffectSize(new EffectSize(13, 1, 15, 1)), SMALL_CONTROL, SMALL_HIGH);
    assertThat(pass.classification()).isEqualTo(Classification.PASS);
    assertThat(pass.critical()).isFalse();
    // "Critical High (Default Thresholds)": every threshold 1 -> critical.
    assertThat(classify(metric(Direction.EITHER).withCritical(true), SMALL_CONTROL, SMALL_HIGH)
        .critical()).isTrue();
  }

  @Test
  void tiedIdenticalAndMissing() {
    // "Mann-Whitney Tied Observations", "Identical Populations", "Leading Zero Identical
    // Population": PASS with direction decrease.
    assertThat(classify(metric(Direction.DECREASE), new double[] {1, 1},
        new double[] {1, 1, 1}).classification()).isEqualTo(Classification.PASS);
    assertThat(classify(metric(Direction.DECREASE), new double[] {5, 4, 3, 2, 1},
        new double[] {1, 2, 3, 4, 5}).classification()).isEqualTo(Classification.PASS);
    assertThat(classify(metric(Direction.DECREASE), new double[] {1, 1, 1, 1, 1},
        new double[] {0, 1, 1, 1, 1}).classification()).isEqualTo(Classification.PASS);
    // "Missing Experiment Data" (and its critical variant): NODATA, critical when critical.
    MetricResult missing = classify(metric(Direction.DECREASE), new double[] {1, 2, 3, 4, 5},
        new double[0]);
    assertThat(missing.classification()).isEqualTo(Classification.NODATA);
    assertThat(missing.critical()).isFalse();
    MetricResult missingCritical = classify(metric(Direction.DECREASE).withCritical(true),
        new double[] {1, 2, 3, 4, 5}, new double[0]);
    assertThat(missingCritical.classification()).isEqualTo(Classification.NODATA);
    assertThat(missingCritical.critical()).isTrue();
    assertThat(missingCritical.reason()).isNotEmpty();
  }

  @Test
  void missingDataWithNanReplacementIsNotAPass() {
    // Known difference: Kayenta's "Missing Experiment Data with NaN Replacement" expects PASS
    // for an empty canary; here no samples at all is NODATA whatever the NaN strategy.
    assertThat(classify(metric(Direction.DECREASE).withNanStrategy(NanStrategy.REPLACE),
        new double[] {1, 2, 3, 4, 5}, new double[0]).classification())
        .isEqualTo(Classification.NODATA);
  }

  // ScorerSuite: the weighted-sum scorer on given classifications.

  private static MetricResult labelled(String name, String group, Classification label,
      boolean critical) {
    SampleSummary empty = SampleSummary.of(new double[0]);
    return new MetricResult(name, group, label, critical, "", null, Double.NaN, empty, empty,
        0, 0, 0, 0, 0, 0);
  }

  private static JudgeResult score(Map<String, Double> weights, MetricResult... results) {
    List<MetricConfig> configs = new ArrayList<>();
    for (MetricResult result : results) {
      configs.add(MetricConfig.of(result.name(), result.group(), Direction.EITHER));
    }
    return CanaryJudge.score(new JudgeConfig(configs, weights, null), List.of(results));
  }

  private static final Classification P = Classification.PASS;
  private static final Classification H = Classification.HIGH;
  private static final Classification L = Classification.LOW;
  private static final Classification N = Classification.NODATA;

  @Test
  void scorerSuiteScores() {
    assertThat(score(Map.of(), labelled("a", "g", P, false)).score()).isEqualTo(100);
    assertThat(score(Map.of(), labelled("a", "g", H, false)).score()).isEqualTo(0);
    assertThat(score(Map.of(), labelled("a", "g", N, false)).score()).isEqualTo(0);
    JudgeResult onePassOneNodata = score(Map.of(), labelled("a", "pass", P, false),
        labelled("b", "pass", P, false), labelled("c", "nodata", N, false));
    assertThat(onePassOneNodata.groups()).extracting(GroupResult::score)
        .containsExactly(100.0, 0.0);
    assertThat(onePassOneNodata.score()).isEqualTo(100);
    assertThat(score(Map.of(), labelled("a", "g", P, false), labelled("b", "g", H, false))
        .score()).isEqualTo(50);
    assertThat(score(Map.of(), labelled("a", "g", P, false), labelled("b", "g", H, false),
        labelled("c", "g", L, false)).score()).isEqualTo(33.33);
    assertThat(score(Map.of("group-1", 75.0, "group-2", 25.0), labelled("a", "group-1", P, false),
        labelled("b", "group-1", P, false), labelled("c", "group-2", H, false)).score())
        .isEqualTo(75);
    assertThat(score(Map.of("group-1", 50.0, "group-2", 50.0), labelled("a", "group-1", P, false),
        labelled("b", "group-1", H, false), labelled("c", "group-2", H, false)).score())
        .isEqualTo(25);
    assertThat(score(Map.of("group-1", 50.0, "group-2", 50.0), labelled("a", "group-1", P, false),
        labelled("b", "group-1", N, false), labelled("c", "group-2", H, false)).score())
        .isEqualTo(50);
    JudgeResult criticalFail = score(Map.of(), labelled("a", "g", P, false),
        labelled("b", "g", H, true));
    assertThat(criticalFail.score()).isEqualTo(0);
    assertThat(criticalFail.outcome()).isEqualTo(Outcome.FAIL);
    assertThat(score(Map.of(), labelled("a", "g", L, false), labelled("b", "g", P, true))
        .score()).isEqualTo(50);
    JudgeResult criticalNodata = score(Map.of(), labelled("a", "g", P, false),
        labelled("b", "g", N, true));
    assertThat(criticalNodata.score()).isEqualTo(0);
    // Half the metrics without data: Kayenta fails; here that is NODATA (see docs/judge.md).
    assertThat(criticalNodata.outcome()).isEqualTo(Outcome.NODATA);
    assertThat(score(Map.of("group1", 15.0, "group2", 85.0), labelled("a", "group1", H, false),
        labelled("b", "group1", L, false), labelled("c", "group1", P, false),
        labelled("d", "group2", H, false)).score()).isEqualTo(5);
  }
}
