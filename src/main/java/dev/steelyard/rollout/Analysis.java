package dev.steelyard.rollout;

import dev.steelyard.judge.JudgeConfig;
import java.time.Duration;
import java.util.Locale;

/**
 * What an automatic judgment looks at, and what it does when it cannot say.
 *
 * <p>The error check runs on the proxies' load reports (LRS) at every interval from the moment
 * the canary has traffic: a sequential test of the canary's errors against the baseline's
 * ({@code errorAlpha}, at least {@code minRequests} finished requests on each side), which may
 * roll back before the window ends. At the end of the window, {@code metrics} (a Kayenta-style
 * configuration; null for none) is judged on samples per interval from the load reports or
 * Prometheus, and the step continues only when the error check found nothing and the score
 * passes.
 *
 * @param errorAlpha the error check's false alarm rate; 0 turns the check off
 * @param minRequests finished requests each side needs before the error check or a verdict
 * @param metrics metrics judged at the end of the window, or null
 * @param interval how often metrics are fetched and judged (the error check follows every
 *     load bucket)
 * @param maxWait how long past the window a judgment waits for enough data before it says
 *     NoData
 * @param onNoData what a NoData verdict does: pause (wait for an operator), rollback, continue
 * @param onMarginal what a marginal score does: pause, rollback, continue
 * @param minSamples samples (not NaN) each side of every metric needs before it is judged:
 *     with few samples the Mann-Whitney interval cannot exclude 0 and a metric passes by lack
 *     of evidence (4 against 4 can never reach 98 % confidence), so fewer means wait
 */
public record Analysis(Double errorAlpha, Long minRequests, JudgeConfig metrics,
    Duration interval, Duration maxWait, String onNoData, String onMarginal,
    Integer minSamples) {

  public static final Analysis DEFAULTS = new Analysis(null, null, null, null, null, null,
      null, null);

  public Analysis {
    minSamples = minSamples == null ? 10 : minSamples;
    errorAlpha = errorAlpha == null ? 0.05 : errorAlpha;
    minRequests = minRequests == null ? 100 : minRequests;
    interval = interval == null ? Duration.ofSeconds(10) : interval;
    maxWait = maxWait == null ? Duration.ofMinutes(5) : maxWait;
    onNoData = onNoData == null ? "pause" : onNoData.toLowerCase(Locale.ROOT);
    onMarginal = onMarginal == null ? "pause" : onMarginal.toLowerCase(Locale.ROOT);
  }

  /** The request's mistakes in words, or null: checked when a flow starts. */
  String problem() {
    if (!(errorAlpha >= 0 && errorAlpha < 1)) {
      return "judgment.analysis.errorAlpha must be at least 0 (off) and below 1, not "
          + errorAlpha;
    }
    if (minRequests < 1) {
      return "judgment.analysis.minRequests must be at least 1";
    }
    if (minSamples < 1) {
      return "judgment.analysis.minSamples must be at least 1";
    }
    if (interval.isNegative() || interval.isZero() || maxWait.isNegative()) {
      return "judgment.analysis.interval must be positive and maxWait at least 0";
    }
    for (String[] policy : new String[][] {{"onNoData", onNoData}, {"onMarginal", onMarginal}}) {
      if (!java.util.List.of("pause", "rollback", "continue").contains(policy[1])) {
        return "judgment.analysis." + policy[0] + " must be pause, rollback or continue, not '"
            + policy[1] + "'";
      }
    }
    if (errorAlpha == 0 && (metrics == null || metrics.metrics().isEmpty())) {
      return "judgment.analysis judges nothing: the error check is off (errorAlpha 0) and no "
          + "metrics are given";
    }
    return null;
  }

  @Override
  public String toString() {
    String errors = errorAlpha > 0 ? "errors at alpha " + errorAlpha : "no error check";
    return metrics == null ? errors : errors + ", " + metrics.metrics().size() + " metric(s)";
  }
}
