package dev.steelyard.judge;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads a judge request from a JSON (or YAML) tree, strictly: unknown keys, wrong types and
 * values out of range are refused with the path of the problem, e.g.
 * {@code config.metrics[2].direction: expected one of increase, decrease, either, got "up"}.
 *
 * <pre>
 * {"config": {"metrics": [{"name": "latency", "group": "performance", "direction": "increase",
 *     "critical": false, "mustHaveData": false, "nanStrategy": "remove",
 *     "effectSize": {"allowedIncrease": 1.1, "allowedDecrease": 1, "criticalIncrease": 1,
 *                    "criticalDecrease": 1},
 *     "outliers": {"strategy": "remove", "outlierFactor": 3},
 *     "confidence": 0.98, "tolerance": 0.25,
 *     "query": {"source": "prometheus", "template": "...", "measure": "..."}}],
 *   "groupWeights": {"performance": 100}, "thresholds": {"pass": 95, "marginal": 75}},
 *  "samples": {"latency": {"baseline": [1, 2, "NaN"], "canary": [3, 4, 5]}},
 *  "window": {...}}
 * </pre>
 * Only name, group and direction are required in a metric; {@code window} is for the metric
 * sources and is passed through unread.
 */
public final class JudgeRequests {

  /** Per side; the interval needs m*n differences in memory (2,000 x 2,000: 32 MB). */
  public static final int MAX_SAMPLES = 2000;
  /**
   * Sum of m*n over the metrics of one request: the work of a judgment is sorting them, and the
   * API answers without a token, so one request may cost about one full-size metric (~1 s).
   */
  public static final long MAX_PAIRS = (long) MAX_SAMPLES * MAX_SAMPLES;

  private static final Set<String> REQUEST_KEYS = Set.of("config", "samples", "window");
  private static final Set<String> CONFIG_KEYS = Set.of("metrics", "groupWeights", "thresholds");
  private static final Set<String> METRIC_KEYS = Set.of("name", "group", "direction", "critical",
      "mustHaveData", "nanStrategy", "effectSize", "outliers", "confidence", "tolerance",
      "query");

  private JudgeRequests() {}

  public static JudgeRequest parse(JsonNode root) {
    object(root, "request");
    keys(root, "", REQUEST_KEYS);
    JudgeConfig config = parseConfig(required(root, "config", ""), "config");
    JsonNode window = root.get("window");
    if (window != null && !window.isObject()) {
      throw error("window", "expected an object", window);
    }
    Map<String, Samples> samples = new LinkedHashMap<>();
    JsonNode samplesNode = root.get("samples");
    if (samplesNode != null) {
      object(samplesNode, "samples");
      Set<String> names = new java.util.LinkedHashSet<>();
      config.metrics().forEach(metric -> names.add(metric.name()));
      for (Iterator<Map.Entry<String, JsonNode>> it = samplesNode.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> entry = it.next();
        String path = "samples." + entry.getKey();
        if (!names.contains(entry.getKey())) {
          throw new JudgeRequestException(path + ": no metric of that name in config.metrics ("
              + String.join(", ", names) + ")");
        }
        samples.put(entry.getKey(), samples(entry.getValue(), path));
      }
    }
    long pairs = 0;
    for (Samples metric : samples.values()) {
      pairs += (long) metric.baseline().length * metric.canary().length;
    }
    if (pairs > MAX_PAIRS) {
      throw new JudgeRequestException("samples: at most " + MAX_PAIRS + " pairs (baseline x "
          + "canary samples, summed over the metrics) in one request, got " + pairs);
    }
    if (window == null) {
      for (MetricConfig metric : config.metrics()) {
        if (!samples.containsKey(metric.name())) {
          throw new JudgeRequestException("samples." + metric.name() + ": missing; give "
              + "{\"baseline\": [...], \"canary\": [...]} (or a window to fetch them)");
        }
      }
    }
    return new JudgeRequest(config, samples, window);
  }

  /** A judgment config on its own, as a rollout flow carries it; {@code path} prefixes errors. */
  public static JudgeConfig parseConfig(JsonNode node, String path) {
    object(node, path);
    keys(node, path, CONFIG_KEYS);
    JsonNode metricsNode = required(node, "metrics", path);
    if (!metricsNode.isArray() || metricsNode.isEmpty()) {
      throw error(path + ".metrics", "expected a non-empty array of metrics", metricsNode);
    }
    List<MetricConfig> metrics = new ArrayList<>();
    for (int i = 0; i < metricsNode.size(); i++) {
      metrics.add(metric(metricsNode.get(i), path + ".metrics[" + i + "]"));
    }
    Map<String, Double> weights = new LinkedHashMap<>();
    JsonNode weightsNode = node.get("groupWeights");
    if (weightsNode != null) {
      object(weightsNode, path + ".groupWeights");
      for (Iterator<Map.Entry<String, JsonNode>> it = weightsNode.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> entry = it.next();
        weights.put(entry.getKey(), number(entry.getValue(),
            path + ".groupWeights." + entry.getKey()));
      }
    }
    Thresholds thresholds = Thresholds.DEFAULT;
    JsonNode thresholdsNode = node.get("thresholds");
    if (thresholdsNode != null) {
      String where = path + ".thresholds";
      object(thresholdsNode, where);
      keys(thresholdsNode, where, Set.of("pass", "marginal"));
      thresholds = new Thresholds(
          number(required(thresholdsNode, "pass", where), where + ".pass"),
          number(required(thresholdsNode, "marginal", where), where + ".marginal"));
      for (double value : new double[] {thresholds.pass(), thresholds.marginal()}) {
        if (value < 0 || value > 100) {
          throw new JudgeRequestException(where + ": pass and marginal must be between 0 and "
              + "100, got " + thresholds.pass() + " and " + thresholds.marginal());
        }
      }
    }
    try {
      return new JudgeConfig(metrics, weights, thresholds);
    } catch (IllegalArgumentException e) {
      throw new JudgeRequestException(path + "." + e.getMessage());
    }
  }

  private static MetricConfig metric(JsonNode node, String path) {
    object(node, path);
    keys(node, path, METRIC_KEYS);
    String name = text(required(node, "name", path), path + ".name");
    String group = text(required(node, "group", path), path + ".group");
    Direction direction = choice(required(node, "direction", path), path + ".direction",
        Direction.class);
    boolean critical = flag(node, "critical", path);
    boolean mustHaveData = flag(node, "mustHaveData", path);
    NanStrategy nan = node.has("nanStrategy")
        ? choice(node.get("nanStrategy"), path + ".nanStrategy", NanStrategy.class)
        : NanStrategy.REMOVE;
    EffectSize effect = EffectSize.DEFAULT;
    if (node.has("effectSize")) {
      String where = path + ".effectSize";
      JsonNode effectNode = node.get("effectSize");
      object(effectNode, where);
      keys(effectNode, where, Set.of("allowedIncrease", "allowedDecrease", "criticalIncrease",
          "criticalDecrease"));
      effect = new EffectSize(positive(effectNode, "allowedIncrease", where),
          positive(effectNode, "allowedDecrease", where),
          positive(effectNode, "criticalIncrease", where),
          positive(effectNode, "criticalDecrease", where));
    }
    boolean removeOutliers = false;
    double factor = MetricConfig.DEFAULT_OUTLIER_FACTOR;
    if (node.has("outliers")) {
      String where = path + ".outliers";
      JsonNode outliers = node.get("outliers");
      object(outliers, where);
      keys(outliers, where, Set.of("strategy", "outlierFactor"));
      if (outliers.has("strategy")) {
        String strategy = text(outliers.get("strategy"), where + ".strategy");
        if (!strategy.equals("remove") && !strategy.equals("keep")) {
          throw error(where + ".strategy", "expected one of remove, keep",
              outliers.get("strategy"));
        }
        removeOutliers = strategy.equals("remove");
      }
      if (outliers.has("outlierFactor")) {
        factor = number(outliers.get("outlierFactor"), where + ".outlierFactor");
        if (!(factor > 0)) {
          throw error(where + ".outlierFactor", "must be above 0", outliers.get("outlierFactor"));
        }
      }
    }
    double confidence = MetricConfig.DEFAULT_CONFIDENCE;
    if (node.has("confidence")) {
      confidence = number(node.get("confidence"), path + ".confidence");
      if (!(confidence >= 0.5 && confidence < 1)) {
        throw error(path + ".confidence", "expected a number in [0.5, 1), such as 0.98",
            node.get("confidence"));
      }
    }
    double tolerance = MetricConfig.DEFAULT_TOLERANCE;
    if (node.has("tolerance")) {
      tolerance = number(node.get("tolerance"), path + ".tolerance");
      if (!(tolerance >= 0)) {
        throw error(path + ".tolerance", "must be 0 or more", node.get("tolerance"));
      }
    }
    Query query = null;
    if (node.has("query")) {
      String where = path + ".query";
      JsonNode queryNode = node.get("query");
      object(queryNode, where);
      keys(queryNode, where, Set.of("source", "template", "measure"));
      query = new Query(optionalText(queryNode, "source", where),
          optionalText(queryNode, "template", where), optionalText(queryNode, "measure", where));
    }
    return new MetricConfig(name, group, direction, critical, effect, nan, removeOutliers,
        confidence, query, factor, mustHaveData, tolerance);
  }

  private static Samples samples(JsonNode node, String path) {
    object(node, path);
    keys(node, path, Set.of("baseline", "canary"));
    return new Samples(values(required(node, "baseline", path), path + ".baseline"),
        values(required(node, "canary", path), path + ".canary"));
  }

  private static double[] values(JsonNode node, String path) {
    if (!node.isArray()) {
      throw error(path, "expected an array of numbers (\"NaN\" for no data)", node);
    }
    if (node.size() > MAX_SAMPLES) {
      throw new JudgeRequestException(path + ": at most " + MAX_SAMPLES + " samples, got "
          + node.size());
    }
    double[] values = new double[node.size()];
    for (int i = 0; i < values.length; i++) {
      JsonNode value = node.get(i);
      if (value.isNull() || (value.isTextual() && value.asText().equals("NaN"))) {
        values[i] = Double.NaN;
      } else if (value.isNumber() && !Double.isInfinite(value.doubleValue())) {
        values[i] = value.doubleValue();
      } else {
        throw error(path + "[" + i + "]", "expected a finite number or \"NaN\"", value);
      }
    }
    return values;
  }

  private static JsonNode required(JsonNode node, String key, String path) {
    JsonNode value = node.get(key);
    if (value == null || value.isNull()) {
      throw new JudgeRequestException((path.isEmpty() ? "" : path + ".") + key
          + ": required");
    }
    return value;
  }

  private static void object(JsonNode node, String path) {
    if (node == null || !node.isObject()) {
      throw error(path, "expected an object", node);
    }
  }

  private static void keys(JsonNode node, String path, Set<String> allowed) {
    for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      if (!allowed.contains(key)) {
        throw new JudgeRequestException((path.isEmpty() ? "" : path + ".") + key
            + ": unknown field; expected one of " + String.join(", ", new java.util.TreeSet<>(
                allowed)));
      }
    }
  }

  private static String text(JsonNode node, String path) {
    if (!node.isTextual() || node.asText().isBlank()) {
      throw error(path, "expected a non-empty string", node);
    }
    return node.asText();
  }

  private static String optionalText(JsonNode node, String key, String path) {
    return node.has(key) && !node.get(key).isNull() ? text(node.get(key), path + "." + key)
        : null;
  }

  private static boolean flag(JsonNode node, String key, String path) {
    JsonNode value = node.get(key);
    if (value == null) {
      return false;
    }
    if (!value.isBoolean()) {
      throw error(path + "." + key, "expected true or false", value);
    }
    return value.booleanValue();
  }

  private static double number(JsonNode node, String path) {
    if (!node.isNumber() || !Double.isFinite(node.doubleValue())) {
      throw error(path, "expected a number", node);
    }
    return node.doubleValue();
  }

  private static double positive(JsonNode node, String key, String path) {
    if (!node.has(key)) {
      return 1;
    }
    double value = number(node.get(key), path + "." + key);
    if (!(value > 0)) {
      throw error(path + "." + key, "must be above 0 (a ratio of canary to baseline mean)",
          node.get(key));
    }
    return value;
  }

  private static <E extends Enum<E>> E choice(JsonNode node, String path, Class<E> type) {
    List<String> names = new ArrayList<>();
    for (E value : type.getEnumConstants()) {
      names.add(value.name().toLowerCase(Locale.ROOT));
    }
    if (node.isTextual() && names.contains(node.asText())) {
      return Enum.valueOf(type, node.asText().toUpperCase(Locale.ROOT));
    }
    throw error(path, "expected one of " + String.join(", ", names), node);
  }

  private static JudgeRequestException error(String path, String expected, JsonNode got) {
    return new JudgeRequestException(path + ": " + expected + ", got "
        + (got == null ? "nothing" : got.toString()));
  }
}
