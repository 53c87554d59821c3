package dev.steelyard.judge;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Locale;

/**
 * A judgment as JSON, every statistic included. NaN and infinities (a ratio of a zero mean) are
 * written as the strings "NaN", "Infinity", as requests write NaN samples.
 */
public final class JudgeJson {

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private JudgeJson() {}

  public static ObjectNode render(JudgeResult result) {
    ObjectNode root = JSON.objectNode();
    root.put("outcome", lower(result.outcome()));
    number(root, "score", result.score());
    root.put("summary", result.summary());
    ObjectNode thresholds = root.putObject("thresholds");
    number(thresholds, "pass", result.thresholds().pass());
    number(thresholds, "marginal", result.thresholds().marginal());
    var groups = root.putArray("groups");
    for (GroupResult group : result.groups()) {
      ObjectNode node = groups.addObject();
      node.put("name", group.name());
      number(node, "score", group.score());
      number(node, "weight", group.weight());
      node.put("noData", group.noData());
      node.put("metrics", group.metrics());
      node.put("passed", group.passed());
    }
    var metrics = root.putArray("metrics");
    for (MetricResult metric : result.metrics()) {
      metrics.add(metric(metric));
    }
    return root;
  }

  public static ObjectNode metric(MetricResult metric) {
    ObjectNode node = JSON.objectNode();
    node.put("name", metric.name());
    node.put("group", metric.group());
    node.put("classification", lower(metric.classification()));
    node.put("critical", metric.critical());
    node.put("reason", metric.reason());
    number(node, "effectSizeRatio", metric.effectSizeRatio());
    if (metric.stats() == null) {
      node.putNull("mannWhitney");
    } else {
      MannWhitneyResult stats = metric.stats();
      ObjectNode mw = node.putObject("mannWhitney");
      number(mw, "pValue", stats.pValue());
      number(mw, "estimate", stats.estimate());
      number(mw, "lower", stats.lower());
      number(mw, "upper", stats.upper());
      number(mw, "confidence", stats.confidence());
      number(mw, "u", stats.u());
      number(mw, "z", stats.z());
    }
    node.set("baseline", side(metric.baseline(), metric.baselineNanRemoved(),
        metric.baselineNanReplaced(), metric.baselineOutliersRemoved()));
    node.set("canary", side(metric.canary(), metric.canaryNanRemoved(),
        metric.canaryNanReplaced(), metric.canaryOutliersRemoved()));
    return node;
  }

  private static ObjectNode side(SampleSummary summary, int nanRemoved, int nanReplaced,
      int outliersRemoved) {
    ObjectNode node = JSON.objectNode();
    node.put("count", summary.count());
    number(node, "mean", summary.mean());
    number(node, "median", summary.median());
    number(node, "min", summary.min());
    number(node, "max", summary.max());
    number(node, "stdev", summary.stdev());
    node.put("nanRemoved", nanRemoved);
    node.put("nanReplaced", nanReplaced);
    node.put("outliersRemoved", outliersRemoved);
    return node;
  }

  private static void number(ObjectNode node, String key, double value) {
    if (Double.isFinite(value)) {
      node.put(key, value);
    } else {
      node.put(key, Double.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
    }
  }

  private static String lower(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT);
  }
}
