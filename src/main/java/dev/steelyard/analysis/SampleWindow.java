package dev.steelyard.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import dev.steelyard.judge.JudgeRequest;
import dev.steelyard.judge.JudgeRequestException;
import dev.steelyard.judge.MetricConfig;
import dev.steelyard.judge.Samples;
import dev.steelyard.view.AppKey;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The {@code window} of a standalone judge request: fetch each metric's samples from its query
 * (Prometheus, or the load reports kept in memory) for one app over a time range, instead of
 * giving them inline.
 *
 * <pre>{"app": "default/hello-app", "start": "2026-12-01T12:00:00Z",
 *  "end": "2026-12-01T12:10:00Z", "step": "PT10S"}</pre>
 * or {@code "last": "PT10M"} instead of start and end; {@code step} defaults to 10 s (the
 * Prometheus resolution; load samples come per load bucket).
 */
public final class SampleWindow {

  private static final Set<String> KEYS = Set.of("app", "start", "end", "last", "step");
  static final Duration MAX_RANGE = Duration.ofDays(7);

  private SampleWindow() {}

  public static Map<String, Samples> fetch(MetricSources sources, JudgeRequest request,
      Instant now) throws JudgeRequestException, IOException {
    JsonNode window = request.window();
    var names = window.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (!KEYS.contains(name)) {
        throw new JudgeRequestException("window." + name + ": unknown key (app, start, end, "
            + "last, step)");
      }
    }
    AppKey app;
    try {
      app = AppKey.parse(text(window, "app"));
    } catch (IllegalArgumentException e) {
      throw new JudgeRequestException("window.app: " + e.getMessage());
    }
    Instant start;
    Instant end;
    if (window.has("last")) {
      if (window.has("start") || window.has("end")) {
        throw new JudgeRequestException("window: last or start and end, not both");
      }
      end = now;
      start = now.minus(duration(window, "last"));
    } else {
      start = instant(window, "start");
      end = instant(window, "end");
    }
    if (!end.isAfter(start) || Duration.between(start, end).compareTo(MAX_RANGE) > 0) {
      throw new JudgeRequestException("window: end must be after start, at most "
          + MAX_RANGE.toDays() + " days later");
    }
    Duration step = window.has("step") ? duration(window, "step") : Duration.ofSeconds(10);
    if (Duration.between(start, end).dividedBy(step) > 11_000) {
      throw new JudgeRequestException("window.step: " + step + " makes more than 11,000 "
          + "points in the window (Prometheus' limit); make it larger");
    }
    Map<String, Samples> samples = new LinkedHashMap<>();
    int index = 0;
    for (MetricConfig metric : request.config().metrics()) {
      if (!request.samples().containsKey(metric.name())) {
        String problem = MetricSources.problem(metric);
        if (problem != null) {
          throw new JudgeRequestException("config.metrics[" + index + "].query: " + problem);
        }
        samples.put(metric.name(), sources.fetch(app, metric, start, end, step));
      }
      index++;
    }
    return samples;
  }

  private static String text(JsonNode window, String key) throws JudgeRequestException {
    JsonNode node = window.get(key);
    if (node == null || !node.isTextual()) {
      throw new JudgeRequestException("window." + key + ": expected a string, got "
          + (node == null ? "nothing" : node.toString()));
    }
    return node.asText();
  }

  private static Instant instant(JsonNode window, String key) throws JudgeRequestException {
    try {
      return Instant.parse(text(window, key));
    } catch (DateTimeParseException e) {
      throw new JudgeRequestException("window." + key + ": expected an ISO-8601 time such as "
          + "2026-12-01T12:00:00Z, got \"" + window.get(key).asText() + "\"");
    }
  }

  private static Duration duration(JsonNode window, String key) throws JudgeRequestException {
    try {
      Duration value = Duration.parse(text(window, key));
      if (value.isNegative() || value.isZero()) {
        throw new JudgeRequestException("window." + key + ": must be positive");
      }
      return value;
    } catch (DateTimeParseException e) {
      throw new JudgeRequestException("window." + key + ": expected an ISO-8601 duration such "
          + "as PT10M, got \"" + window.get(key).asText() + "\"");
    }
  }
}
