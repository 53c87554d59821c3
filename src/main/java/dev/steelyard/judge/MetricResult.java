package dev.steelyard.judge;

/**
 * One metric's classification and the evidence behind it. {@code critical} is true when this
 * metric failed the whole run (a critical metric HIGH/LOW beyond its critical effect size, or
 * without data). {@code stats} is null when no test ran (no data, identical samples).
 * {@code effectSizeRatio} is mean(canary) / mean(baseline), NaN when a mean is 0.
 */
public record MetricResult(String name, String group, Classification classification,
    boolean critical, String reason, MannWhitneyResult stats, double effectSizeRatio,
    SampleSummary baseline, SampleSummary canary, int baselineNanRemoved, int canaryNanRemoved,
    int baselineNanReplaced, int canaryNanReplaced, int baselineOutliersRemoved,
    int canaryOutliersRemoved) {}
