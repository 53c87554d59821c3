package dev.steelyard.judge;

import java.util.List;

/** A whole judgment: every metric, every group, the score (0..100), the verdict and why. */
public record JudgeResult(List<MetricResult> metrics, List<GroupResult> groups, double score,
    Outcome outcome, String summary, Thresholds thresholds) {

  public JudgeResult {
    metrics = List.copyOf(metrics);
    groups = List.copyOf(groups);
  }
}
