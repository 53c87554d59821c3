package dev.steelyard.rollout;

import dev.steelyard.judge.CountDecision;
import dev.steelyard.judge.JudgeResult;
import dev.steelyard.judge.Samples;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What an automatic verdict was based on, kept in the flow's history: the analysis window
 * (from the canary's first reported traffic after the step's routes were ACKed), the error
 * check's counts and statistics, the metric judgment with every metric's statistics, the
 * samples themselves (so that a step can be judged again with another configuration), and which
 * proxies reported load.
 *
 * @param errors the error check, or null when it was off
 * @param metrics the metric judgment, or null when none was configured or it did not run yet
 * @param samples per metric, baseline and canary samples (at most {@link #MAX_SAMPLES} each)
 * @param reporters proxies whose load reports the window holds (at most 16 named per role)
 */
public record Evidence(Instant acked, Instant from, Instant to, CountDecision errors,
    JudgeResult metrics, Map<String, Samples> samples, List<String> reporters) {

  public static final int MAX_SAMPLES = 1_000;

  public Evidence {
    samples = samples == null ? Map.of() : Map.copyOf(samples);
    reporters = reporters == null ? List.of() : List.copyOf(reporters);
  }
}
