package dev.steelyard.admin;

import dev.steelyard.load.LoadStore;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The body of {@code GET /api/v1/apps/{ns}/{name}/load}: the load reports kept for an app. */
final class LoadViews {

  private static final Pattern SHORT = Pattern.compile("(\\d+)(ms|s|m|h)");

  private LoadViews() {}

  static Map<String, Object> load(LoadStore store, AppKey app, Duration window, Instant now) {
    Instant from = now.minus(window);
    Map<String, Object> roles = new LinkedHashMap<>();
    for (SubsetRole role : SubsetRole.values()) {
      List<LoadStore.Interval> intervals = store.intervals(app, role, from, now);
      LoadStore.Totals totals = LoadStore.sum(intervals);
      List<Map<String, Object>> series = new ArrayList<>();
      for (LoadStore.Interval interval : intervals) {
        series.add(Map.of("end", interval.end().toString(),
            "issued", interval.totals().issued(),
            "succeeded", interval.totals().succeeded(),
            "errors", interval.totals().errors(),
            "reports", interval.totals().reports()));
      }
      Map<String, Object> one = new LinkedHashMap<>();
      one.put("issued", totals.issued());
      one.put("succeeded", totals.succeeded());
      one.put("errors", totals.errors());
      one.put("inProgress", totals.inProgress());
      double rate = totals.errorRate();
      one.put("errorRate", Double.isNaN(rate) ? null : rate);
      one.put("reports", totals.reports());
      one.put("reporters", totals.reporters());
      one.put("intervals", series);
      roles.put(role.label(), one);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("app", app.toString());
    body.put("from", from.toString());
    body.put("to", now.toString());
    body.put("resolution", store.resolution().toString());
    body.put("roles", roles);
    return body;
  }

  /** {@code ?window=}: 30s, 5m, 1h or ISO-8601; at most the retention. */
  static Duration window(String text, LoadStore store) {
    if (text == null || text.isBlank()) {
      return Duration.ofMinutes(5).compareTo(store.retention()) > 0 ? store.retention()
          : Duration.ofMinutes(5);
    }
    Duration window;
    Matcher matcher = SHORT.matcher(text.trim());
    try {
      if (matcher.matches()) {
        long amount = Long.parseLong(matcher.group(1));
        window = switch (matcher.group(2)) {
          case "ms" -> Duration.ofMillis(amount);
          case "s" -> Duration.ofSeconds(amount);
          case "m" -> Duration.ofMinutes(amount);
          default -> Duration.ofHours(amount);
        };
      } else {
        window = Duration.parse(text.trim());
      }
    } catch (RuntimeException e) {
      throw new ApiException(400, "window: '" + text + "' is not a duration such as 30s, 5m "
          + "or 1h");
    }
    if (window.isNegative() || window.isZero() || window.compareTo(store.retention()) > 0) {
      throw new ApiException(400, "window must be positive and at most " + store.retention()
          + " (the load reports kept)");
    }
    return window;
  }
}
