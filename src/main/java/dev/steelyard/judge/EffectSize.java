package dev.steelyard.judge;

/**
 * How large a change must be, as the ratio of the canary's mean to the baseline's, before a
 * significant difference fails the metric (Kayenta's {@code meanRatio} effect size). HIGH needs
 * ratio >= allowedIncrease, LOW needs ratio <= allowedDecrease; a critical metric fails the run
 * only when also ratio >= criticalIncrease (or <= criticalDecrease). All default to 1 (any
 * significant change counts). When the ratio cannot be computed (a mean of 0) the effect-size
 * check is skipped, as in Kayenta.
 */
public record EffectSize(double allowedIncrease, double allowedDecrease, double criticalIncrease,
    double criticalDecrease) {

  public static final EffectSize DEFAULT = new EffectSize(1, 1, 1, 1);
}
