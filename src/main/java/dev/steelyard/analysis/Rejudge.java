package dev.steelyard.analysis;

import dev.steelyard.judge.CanaryJudge;
import dev.steelyard.judge.JudgeConfig;
import dev.steelyard.judge.JudgeResult;
import dev.steelyard.rollout.Evidence;
import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.HistoryEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Judges a stored step again: the samples kept in the evidence of a flow's verdict, run
 * through another configuration, without touching the flow. The error check is not run again
 * (its counts and alpha are part of the evidence as they were); only the metric judgment is.
 */
public final class Rejudge {

  /** The stored verdict and what the other configuration makes of its samples. */
  public record Outcome(String flowId, int step, HistoryEntry stored, JudgeResult rejudged,
      boolean changed, List<String> missingSamples) {}

  private Rejudge() {}

  /** The automatic verdicts of {@code flow}, oldest first: step n's is at n - 1 at most. */
  static List<HistoryEntry> verdicts(Flow flow) {
    List<HistoryEntry> verdicts = new ArrayList<>();
    for (HistoryEntry entry : flow.history()) {
      if (entry.event().equals("judgment") && entry.evidence() != null) {
        verdicts.add(entry);
      }
    }
    return verdicts;
  }

  /**
   * Step {@code step} (1-based) of {@code flow}, judged with {@code config}; empty when that
   * step has no automatic verdict with evidence (a manual or pause judgment, or not judged).
   */
  public static Optional<Outcome> step(Flow flow, int step, JudgeConfig config) {
    String prefix = "step " + step + ": ";
    HistoryEntry stored = null;
    for (HistoryEntry entry : verdicts(flow)) {
      if (entry.detail().startsWith(prefix)) {
        stored = entry;
      }
    }
    if (stored == null) {
      return Optional.empty();
    }
    Evidence evidence = stored.evidence();
    List<String> missing = new ArrayList<>();
    config.metrics().forEach(metric -> {
      if (!evidence.samples().containsKey(metric.name())) {
        missing.add(metric.name());
      }
    });
    JudgeResult rejudged = CanaryJudge.judge(config, evidence.samples());
    boolean changed = evidence.metrics() == null
        || evidence.metrics().outcome() != rejudged.outcome();
    return Optional.of(new Outcome(flow.id(), step, stored, rejudged, changed, missing));
  }
}
