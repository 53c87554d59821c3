package dev.steelyard.judge;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * A standalone judgment: the config and, per metric, inline samples. {@code window} is the
 * other form (fetch the samples from each metric's query over a time window); it is carried
 * unparsed for the metric sources, null when every metric has inline samples.
 */
public record JudgeRequest(JudgeConfig config, Map<String, Samples> samples, JsonNode window) {

  public JudgeRequest {
    samples = Map.copyOf(samples);
  }
}
