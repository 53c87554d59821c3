package dev.steelyard.judge;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The metrics, the weight of each group (percent; groups left out share what is left of 100,
 * as in Kayenta; none given: equal shares) and the score thresholds.
 */
public record JudgeConfig(List<MetricConfig> metrics, Map<String, Double> groupWeights,
    Thresholds thresholds) {

  public JudgeConfig {
    metrics = List.copyOf(metrics);
    groupWeights = groupWeights == null ? Map.of()
        : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(groupWeights));
    thresholds = thresholds == null ? Thresholds.DEFAULT : thresholds;
    if (metrics.isEmpty()) {
      throw new IllegalArgumentException("metrics: at least one metric is needed");
    }
    Set<String> names = new HashSet<>();
    for (MetricConfig metric : metrics) {
      if (!names.add(metric.name())) {
        throw new IllegalArgumentException("metrics: the name '" + metric.name()
            + "' is used twice");
      }
    }
    Set<String> groups = groups(metrics);
    double sum = 0;
    for (Map.Entry<String, Double> weight : groupWeights.entrySet()) {
      if (!groups.contains(weight.getKey())) {
        throw new IllegalArgumentException("groupWeights." + weight.getKey()
            + ": no metric is in this group (groups: " + String.join(", ", groups) + ")");
      }
      if (!(weight.getValue() >= 0)) {
        throw new IllegalArgumentException("groupWeights." + weight.getKey()
            + ": must be 0 or more, got " + weight.getValue());
      }
      sum += weight.getValue();
    }
    if (sum > 100 + 1e-9) {
      throw new IllegalArgumentException("groupWeights: must total 100 or less, got " + sum);
    }
    if (!groupWeights.isEmpty() && groupWeights.size() == groups.size()
        && Math.abs(sum - 100) > 1e-9) {
      throw new IllegalArgumentException("groupWeights: every group has a weight, so they must "
          + "total 100, got " + sum);
    }
    Objects.requireNonNull(thresholds);
    if (!(thresholds.marginal() <= thresholds.pass())) {
      throw new IllegalArgumentException("thresholds: marginal (" + thresholds.marginal()
          + ") must not be above pass (" + thresholds.pass() + ")");
    }
  }

  /** The groups in the order their first metric appears. */
  public Set<String> groups() {
    return groups(metrics);
  }

  /** Each group's weight in percent: given, or an equal share of what the given ones leave. */
  public Map<String, Double> resolvedWeights() {
    Set<String> groups = groups();
    double given = groupWeights.values().stream().mapToDouble(Double::doubleValue).sum();
    long missing = groups.stream().filter(group -> !groupWeights.containsKey(group)).count();
    double share = missing == 0 ? 0 : (100 - given) / missing;
    Map<String, Double> weights = new LinkedHashMap<>();
    for (String group : groups) {
      weights.put(group, groupWeights.getOrDefault(group, share));
    }
    return weights;
  }

  private static Set<String> groups(List<MetricConfig> metrics) {
    Set<String> groups = new LinkedHashSet<>();
    metrics.forEach(metric -> groups.add(metric.group()));
    return groups;
  }
}
