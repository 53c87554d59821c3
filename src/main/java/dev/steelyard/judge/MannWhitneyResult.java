package dev.steelyard.judge;

/**
 * The Mann-Whitney (Wilcoxon rank-sum) comparison of canary against baseline: the two-sided
 * p-value for "no location shift", the Hodges-Lehmann estimate of the shift canary - baseline,
 * and its confidence interval [lower, upper] at {@code confidence}.
 */
public record MannWhitneyResult(double pValue, double estimate, double lower, double upper,
    double confidence, double u, double z) {}
