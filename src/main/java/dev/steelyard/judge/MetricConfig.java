package dev.steelyard.judge;

import java.util.Objects;

/**
 * How one metric is judged. Kayenta's per-metric settings: direction, critical, effect size,
 * NaN strategy, outlier removal (IQR fences at {@code outlierFactor}, default 3), mustHaveData,
 * plus the Mann-Whitney confidence (Kayenta's judge fixes 0.98) and tolerance (Kayenta's judge
 * fixes 0.25: the confidence interval must clear +-tolerance * |estimate|, not just 0).
 */
public record MetricConfig(String name, String group, Direction direction, boolean critical,
    EffectSize effectSize, NanStrategy nanStrategy, boolean removeOutliers, double confidence,
    Query query, double outlierFactor, boolean mustHaveData, double tolerance) {

  public static final double DEFAULT_CONFIDENCE = 0.98;
  public static final double DEFAULT_TOLERANCE = 0.25;
  public static final double DEFAULT_OUTLIER_FACTOR = 3.0;

  public MetricConfig {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(direction, "direction");
    effectSize = effectSize == null ? EffectSize.DEFAULT : effectSize;
    nanStrategy = nanStrategy == null ? NanStrategy.REMOVE : nanStrategy;
    if (!(confidence > 0 && confidence < 1)) {
      throw new IllegalArgumentException("confidence must be between 0 and 1, got " + confidence);
    }
    if (!(outlierFactor > 0)) {
      throw new IllegalArgumentException("outlierFactor must be above 0, got " + outlierFactor);
    }
    if (!(tolerance >= 0)) {
      throw new IllegalArgumentException("tolerance must be 0 or more, got " + tolerance);
    }
  }

  /** The original shape; outlier factor 3, mustHaveData false, tolerance 0.25. */
  public MetricConfig(String name, String group, Direction direction, boolean critical,
      EffectSize effectSize, NanStrategy nanStrategy, boolean removeOutliers, double confidence,
      Query query) {
    this(name, group, direction, critical, effectSize, nanStrategy, removeOutliers, confidence,
        query, DEFAULT_OUTLIER_FACTOR, false, DEFAULT_TOLERANCE);
  }

  /** Kayenta's defaults for everything but the name, group and direction. */
  public static MetricConfig of(String name, String group, Direction direction) {
    return new MetricConfig(name, group, direction, false, EffectSize.DEFAULT,
        NanStrategy.REMOVE, false, DEFAULT_CONFIDENCE, null);
  }

  public MetricConfig withCritical(boolean value) {
    return new MetricConfig(name, group, direction, value, effectSize, nanStrategy,
        removeOutliers, confidence, query, outlierFactor, mustHaveData, tolerance);
  }

  public MetricConfig withEffectSize(EffectSize value) {
    return new MetricConfig(name, group, direction, critical, value, nanStrategy,
        removeOutliers, confidence, query, outlierFactor, mustHaveData, tolerance);
  }

  public MetricConfig withNanStrategy(NanStrategy value) {
    return new MetricConfig(name, group, direction, critical, effectSize, value,
        removeOutliers, confidence, query, outlierFactor, mustHaveData, tolerance);
  }

  public MetricConfig withOutliers(boolean remove, double factor) {
    return new MetricConfig(name, group, direction, critical, effectSize, nanStrategy, remove,
        confidence, query, factor, mustHaveData, tolerance);
  }

  public MetricConfig withConfidence(double value) {
    return new MetricConfig(name, group, direction, critical, effectSize, nanStrategy,
        removeOutliers, value, query, outlierFactor, mustHaveData, tolerance);
  }

  public MetricConfig withTolerance(double value) {
    return new MetricConfig(name, group, direction, critical, effectSize, nanStrategy,
        removeOutliers, confidence, query, outlierFactor, mustHaveData, value);
  }

  public MetricConfig withMustHaveData(boolean value) {
    return new MetricConfig(name, group, direction, critical, effectSize, nanStrategy,
        removeOutliers, confidence, query, outlierFactor, value, tolerance);
  }
}
