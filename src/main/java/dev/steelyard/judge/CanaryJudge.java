package dev.steelyard.judge;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Kayenta's canary judgment (its NetflixACAJudge with the Mann-Whitney classifier and the
 * weighted-sum scorer), as documented, without I/O. Per metric: NaN handling, optional IQR
 * outlier removal, then PASS/HIGH/LOW/NODATA; per group the percentage of metrics with data that
 * passed; the total is the weighted sum of the groups (a group without data counts as 100),
 * rounded to two decimals; a critical failure fails the run with score 0. See docs/judge.md for
 * where this differs from Kayenta.
 */
public final class CanaryJudge {

  /** Half or more of the metrics without data makes the run NODATA (Kayenta: FAIL, score 0). */
  public static final double NODATA_PERCENT = 50;

  private CanaryJudge() {}

  public static JudgeResult judge(JudgeConfig config, Map<String, Samples> samplesByMetric) {
    List<MetricResult> metrics = new ArrayList<>();
    for (MetricConfig metric : config.metrics()) {
      Samples samples = samplesByMetric.get(metric.name());
      metrics.add(classify(metric, samples == null
          ? new Samples(new double[0], new double[0]) : samples));
    }
    return score(config, metrics);
  }

  /** One metric, on its own. */
  public static MetricResult classify(MetricConfig metric, Samples samples) {
    Side baseline = Side.prepare(samples.baseline(), metric);
    Side canary = Side.prepare(samples.canary(), metric);
    SampleSummary baselineSummary = SampleSummary.of(baseline.values);
    SampleSummary canarySummary = SampleSummary.of(canary.values);
    double ratio = baselineSummary.mean() == 0 || canarySummary.mean() == 0 ? Double.NaN
        : canarySummary.mean() / baselineSummary.mean();
    Verdict verdict = verdict(metric, baseline.values, canary.values, ratio);
    return new MetricResult(metric.name(), metric.group(), verdict.classification,
        verdict.critical, verdict.reason, verdict.stats, ratio, baselineSummary, canarySummary,
        baseline.nanRemoved, canary.nanRemoved, baseline.nanReplaced, canary.nanReplaced,
        baseline.outliersRemoved, canary.outliersRemoved);
  }

  private record Verdict(Classification classification, boolean critical, String reason,
      MannWhitneyResult stats) {}

  private static Verdict verdict(MetricConfig metric, double[] baseline, double[] canary,
      double ratio) {
    if (baseline.length == 0 || canary.length == 0) {
      String which = baseline.length == 0 && canary.length == 0 ? "baseline and canary"
          : baseline.length == 0 ? "baseline" : "canary";
      String reason = "no data for the " + which;
      if (metric.mustHaveData() && !metric.critical()) {
        return new Verdict(Classification.NODATA_FAIL, false, reason + " (mustHaveData)", null);
      }
      return new Verdict(Classification.NODATA, metric.critical(),
          metric.critical() ? reason + " (critical metric)" : reason, null);
    }
    double[] sortedBaseline = baseline.clone();
    double[] sortedCanary = canary.clone();
    Arrays.sort(sortedBaseline);
    Arrays.sort(sortedCanary);
    if (Arrays.equals(sortedBaseline, sortedCanary)) {
      return new Verdict(Classification.PASS, false, "baseline and canary are identical", null);
    }
    if (sortedBaseline[0] == sortedBaseline[sortedBaseline.length - 1]
        && sortedCanary[0] == sortedCanary[sortedCanary.length - 1]
        && sortedBaseline[0] == sortedCanary[0]) {
      return new Verdict(Classification.PASS, false, "every sample has the same value", null);
    }
    MannWhitneyResult stats = MannWhitney.test(canary, baseline, metric.confidence());
    // Kayenta: the interval must clear a band of +-tolerance*|estimate| around 0, not just 0.
    double band = metric.tolerance() * Math.abs(stats.estimate());
    EffectSize effect = metric.effectSize();
    boolean up = metric.direction() != Direction.DECREASE;
    boolean down = metric.direction() != Direction.INCREASE;
    boolean high = up && stats.lower() > band
        && (Double.isNaN(ratio) || ratio >= effect.allowedIncrease());
    boolean low = down && stats.upper() < -band
        && (Double.isNaN(ratio) || ratio <= effect.allowedDecrease());
    String interval = String.format(Locale.ROOT, "%s%% interval of the shift [%s, %s], band "
        + "+-%s, mean ratio %s", fmt(100 * metric.confidence()), fmt(stats.lower()),
        fmt(stats.upper()), fmt(band), fmt(ratio));
    if (high) {
      boolean critical = metric.critical()
          && (Double.isNaN(ratio) || ratio >= effect.criticalIncrease());
      return new Verdict(Classification.HIGH, critical, "canary higher: " + interval
          + (critical ? " (critical: ratio >= " + fmt(effect.criticalIncrease()) + ")" : ""),
          stats);
    }
    if (low) {
      boolean critical = metric.critical()
          && (Double.isNaN(ratio) || ratio <= effect.criticalDecrease());
      return new Verdict(Classification.LOW, critical, "canary lower: " + interval
          + (critical ? " (critical: ratio <= " + fmt(effect.criticalDecrease()) + ")" : ""),
          stats);
    }
    return new Verdict(Classification.PASS, false, "no failing difference: " + interval, stats);
  }

  /** Groups, total score and verdict from classified metrics (Kayenta's weighted-sum scorer). */
  public static JudgeResult score(JudgeConfig config, List<MetricResult> metrics) {
    Map<String, Double> weights = config.resolvedWeights();
    List<GroupResult> groups = new ArrayList<>();
    double total = 0;
    for (Map.Entry<String, Double> group : weights.entrySet()) {
      int passed = 0;
      int withData = 0;
      int members = 0;
      for (MetricResult metric : metrics) {
        if (!metric.group().equals(group.getKey())) {
          continue;
        }
        members++;
        if (metric.classification() != Classification.NODATA) {
          withData++;
          passed += metric.classification() == Classification.PASS ? 1 : 0;
        }
      }
      boolean noData = withData == 0;
      double score = noData ? 0 : 100.0 * passed / withData;
      groups.add(new GroupResult(group.getKey(), score, group.getValue(), noData, members,
          passed));
      total += (noData ? 100 : score) * group.getValue() / 100;
    }
    total = Math.round(total * 100) / 100.0;

    Thresholds thresholds = config.thresholds();
    long noData = metrics.stream()
        .filter(metric -> metric.classification() == Classification.NODATA).count();
    MetricResult criticalFailure = metrics.stream()
        .filter(metric -> metric.critical() && metric.classification() != Classification.NODATA
            && metric.classification() != Classification.PASS)
        .findFirst().orElse(null);
    MetricResult criticalNoData = metrics.stream()
        .filter(metric -> metric.critical() && metric.classification() == Classification.NODATA)
        .findFirst().orElse(null);
    if (criticalFailure != null) {
      return new JudgeResult(metrics, groups, 0, Outcome.FAIL, "FAIL: critical metric "
          + criticalFailure.name() + " is " + criticalFailure.classification() + " ("
          + criticalFailure.reason() + ")", thresholds);
    }
    if (100.0 * noData / metrics.size() >= NODATA_PERCENT) {
      return new JudgeResult(metrics, groups, 0, Outcome.NODATA, "NODATA: " + noData + " of "
          + metrics.size() + " metrics have no data", thresholds);
    }
    if (criticalNoData != null) {
      return new JudgeResult(metrics, groups, 0, Outcome.FAIL, "FAIL: critical metric "
          + criticalNoData.name() + " has no data", thresholds);
    }
    Outcome outcome = total >= thresholds.pass() ? Outcome.PASS
        : total >= thresholds.marginal() ? Outcome.MARGINAL : Outcome.FAIL;
    String rule = switch (outcome) {
      case PASS -> ">= pass " + fmt(thresholds.pass());
      case MARGINAL -> "< pass " + fmt(thresholds.pass()) + ", >= marginal "
          + fmt(thresholds.marginal());
      default -> "< marginal " + fmt(thresholds.marginal());
    };
    return new JudgeResult(metrics, groups, total, outcome, outcome + ": score " + fmt(total)
        + " " + rule, thresholds);
  }

  static String fmt(double value) {
    if (Double.isNaN(value)) {
      return "NaN";
    }
    return String.format(Locale.ROOT, "%.4g", value).replaceAll("(\\.\\d*?)0+(e|$)", "$1$2")
        .replaceAll("\\.(e|$)", "$1");
  }

  /** One side's samples after NaN handling and outlier removal, with what was taken out. */
  private record Side(double[] values, int nanRemoved, int nanReplaced, int outliersRemoved) {

    static Side prepare(double[] raw, MetricConfig metric) {
      int nans = 0;
      double[] values = new double[raw.length];
      int kept = 0;
      for (double value : raw) {
        if (Double.isNaN(value)) {
          nans++;
          if (metric.nanStrategy() == NanStrategy.REPLACE) {
            values[kept++] = 0;
          }
        } else {
          values[kept++] = value;
        }
      }
      values = Arrays.copyOf(values, kept);
      int outliers = 0;
      if (metric.removeOutliers() && values.length > 0) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double q1 = SampleSummary.percentile(sorted, 25);
        double q3 = SampleSummary.percentile(sorted, 75);
        double lowFence = q1 - metric.outlierFactor() * (q3 - q1);
        double highFence = q3 + metric.outlierFactor() * (q3 - q1);
        double[] inside = Arrays.stream(values)
            .filter(value -> value >= lowFence && value <= highFence).toArray();
        outliers = values.length - inside.length;
        values = inside;
      }
      boolean replace = metric.nanStrategy() == NanStrategy.REPLACE;
      return new Side(values, replace ? 0 : nans, replace ? nans : 0, outliers);
    }
  }
}
