package dev.steelyard.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class JudgeRequestsTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static JsonNode tree(String json) throws Exception {
    return JSON.readTree(json.replace('\'', '"'));
  }

  private static final String METRIC = "{'name': 'latency', 'group': 'perf', "
      + "'direction': 'increase'}";
  private static final String SAMPLES = "'samples': {'latency': {'baseline': [1, 2, 'NaN'], "
      + "'canary': [3, null, 5]}}";

  @Test
  void aFullRequestReadsEverySetting() throws Exception {
    JudgeRequest request = JudgeRequests.parse(tree("{'config': {'metrics': [{'name': 'm', "
        + "'group': 'g', 'direction': 'either', 'critical': true, 'mustHaveData': true, "
        + "'nanStrategy': 'replace', 'effectSize': {'allowedIncrease': 1.1, "
        + "'allowedDecrease': 0.9, 'criticalIncrease': 5, 'criticalDecrease': 0.5}, "
        + "'outliers': {'strategy': 'remove', 'outlierFactor': 2}, 'confidence': 0.95, "
        + "'tolerance': 0.1, 'query': {'source': 'prometheus', 'template': 'up{role=\\\"$role\\\"}', "
        + "'measure': 'p99'}}], 'groupWeights': {'g': 100}, "
        + "'thresholds': {'pass': 90, 'marginal': 50}}, "
        + "'samples': {'m': {'baseline': [1, 'NaN'], 'canary': [2]}}}"));
    MetricConfig metric = request.config().metrics().get(0);
    assertThat(metric).isEqualTo(new MetricConfig("m", "g", Direction.EITHER, true,
        new EffectSize(1.1, 0.9, 5, 0.5), NanStrategy.REPLACE, true, 0.95,
        new Query("prometheus", "up{role=\"$role\"}", "p99"), 2, true, 0.1));
    assertThat(request.config().groupWeights()).containsEntry("g", 100.0);
    assertThat(request.config().thresholds()).isEqualTo(new Thresholds(90, 50));
    assertThat(request.samples().get("m").baseline()).containsExactly(1, Double.NaN);
    assertThat(request.window()).isNull();
  }

  @Test
  void defaultsAreKayentas() throws Exception {
    JudgeRequest request = JudgeRequests.parse(tree("{'config': {'metrics': [" + METRIC
        + "]}, " + SAMPLES + "}"));
    assertThat(request.config().metrics().get(0))
        .isEqualTo(MetricConfig.of("latency", "perf", Direction.INCREASE));
    assertThat(request.config().thresholds()).isEqualTo(new Thresholds(95, 75));
    assertThat(request.samples().get("latency").canary()).containsExactly(3, Double.NaN, 5);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "bad direction | {'config': {'metrics': [" + METRIC + ", " + METRIC + ", {'name': 'x', "
          + "'group': 'g', 'direction': 'up'}]}} | config.metrics[2].direction: expected one "
          + "of increase, decrease, either, got \"up\"",
      "unknown field | {'config': {'metrics': [{'name': 'a', 'group': 'g', 'direction': "
          + "'increase', 'critcal': true}]}} | config.metrics[0].critcal: unknown field; "
          + "expected one of confidence, critical",
      "missing name | {'config': {'metrics': [{'group': 'g', 'direction': 'increase'}]}} "
          + "| config.metrics[0].name: required",
      "no metrics | {'config': {'metrics': []}} | config.metrics: expected a non-empty array",
      "missing samples | {'config': {'metrics': [" + METRIC + "]}} | samples.latency: missing",
      "samples of no metric | {'config': {'metrics': [" + METRIC + "]}, 'samples': "
          + "{'latency': {'baseline': [1], 'canary': [1]}, 'lat': {'baseline': [], 'canary': "
          + "[]}}} | samples.lat: no metric of that name in config.metrics (latency)",
      "text sample | {'config': {'metrics': [" + METRIC + "]}, 'samples': {'latency': "
          + "{'baseline': [1, 'x'], 'canary': [1]}}} | samples.latency.baseline[1]: expected a "
          + "finite number or \"NaN\", got \"x\"",
      "duplicate name | {'config': {'metrics': [" + METRIC + ", " + METRIC + "]}} "
          + "| config.metrics: the name 'latency' is used twice",
      "weights not 100 | {'config': {'metrics': [" + METRIC + "], 'groupWeights': "
          + "{'perf': 60}}} | config.groupWeights: every group has a weight, so they must "
          + "total 100, got 60.0",
      "zero effect size | {'config': {'metrics': [{'name': 'a', 'group': 'g', 'direction': "
          + "'increase', 'effectSize': {'allowedIncrease': 0}}]}} "
          + "| config.metrics[0].effectSize.allowedIncrease: must be above 0",
      "critical as text | {'config': {'metrics': [{'name': 'a', 'group': 'g', 'direction': "
          + "'increase', 'critical': 'yes'}]}} | config.metrics[0].critical: expected true or "
          + "false, got \"yes\"",
      "threshold above 100 | {'config': {'metrics': [" + METRIC + "], 'thresholds': "
          + "{'pass': 120, 'marginal': 75}}} | config.thresholds: pass and marginal must be "
          + "between 0 and 100",
      "outlier strategy | {'config': {'metrics': [{'name': 'a', 'group': 'g', 'direction': "
          + "'increase', 'outliers': {'strategy': 'drop'}}]}} "
          + "| config.metrics[0].outliers.strategy: expected one of remove, keep, got \"drop\"",
      "no config | {'samples': {}} | config: required",
  })
  void badInputIsNamedByItsPath(String name, String json, String message) throws Exception {
    JsonNode request = tree(json);
    assertThatThrownBy(() -> JudgeRequests.parse(request))
        .isInstanceOf(JudgeRequestException.class).hasMessageStartingWith(message);
  }

  @Test
  void oneRequestMayNotAskForMoreWorkThanOneFullMetric() throws Exception {
    // 1,501 a side, two metrics: 2 * 1501^2 = 4,506,002 pairs.
    String side = "[" + "1,".repeat(1500) + "1]";
    String metric = "{'baseline': " + side + ", 'canary': " + side + "}";
    JsonNode request = tree("{'config': {'metrics': [" + METRIC + ", {'name': 'b', 'group': "
        + "'perf', 'direction': 'increase'}]}, 'samples': {'latency': " + metric + ", 'b': "
        + metric + "}}");
    assertThatThrownBy(() -> JudgeRequests.parse(request))
        .hasMessage("samples: at most 4000000 pairs (baseline x canary samples, summed over "
            + "the metrics) in one request, got 4506002");
  }

  @Test
  void aWindowLetsSamplesBeLeftOut() throws Exception {
    JudgeRequest request = JudgeRequests.parse(tree("{'config': {'metrics': [" + METRIC
        + "]}, 'window': {'start': '2026-12-01T10:00:00Z', 'end': '2026-12-01T10:10:00Z'}}"));
    assertThat(request.samples()).isEmpty();
    assertThat(request.window().get("start").asText()).isEqualTo("2026-12-01T10:00:00Z");
  }

  @Test
  void theRenderedResultCarriesEveryStatistic() throws Exception {
    JudgeRequest request = JudgeRequests.parse(tree("{'config': {'metrics': [" + METRIC
        + "]}, 'samples': {'latency': {'baseline': [1, 2, 3, 'NaN'], 'canary': [0, 0, 0]}}}"));
    JsonNode json = JudgeJson.render(CanaryJudge.judge(request.config(), request.samples()));
    assertThat(json.get("outcome").asText()).isEqualTo("pass");
    JsonNode metric = json.get("metrics").get(0);
    // A canary mean of 0: the ratio is NaN, written as the string.
    assertThat(metric.get("effectSizeRatio").asText()).isEqualTo("NaN");
    assertThat(metric.get("baseline").get("nanRemoved").asInt()).isEqualTo(1);
    assertThat(metric.get("mannWhitney").get("estimate").asDouble()).isEqualTo(-2);
    assertThat(metric.get("mannWhitney").has("pValue")).isTrue();
    assertThat(json.get("groups").get(0).get("weight").asDouble()).isEqualTo(100);
  }
}
