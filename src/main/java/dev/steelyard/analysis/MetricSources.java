package dev.steelyard.analysis;

import dev.steelyard.judge.MetricConfig;
import dev.steelyard.judge.Query;
import dev.steelyard.judge.Samples;
import dev.steelyard.load.LoadStore;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a metric's baseline and canary samples come from, by its query's source:
 * <ul>
 *   <li>{@code load}: the proxies' load reports, one sample per load bucket; measure {@code
 *       error_rate} (errors per finished request, NaN for a bucket without any) or {@code
 *       requests} (finished requests);
 *   <li>{@code prometheus}: a PromQL template evaluated over the window with {@code
 *       query_range}, once for the baseline and once for the canary (see {@link
 *       PrometheusSource} for the placeholders).
 * </ul>
 */
public final class MetricSources {

  private final LoadStore load;
  private final Optional<PrometheusSource> prometheus;

  public MetricSources(LoadStore load, Optional<PrometheusSource> prometheus) {
    this.load = load;
    this.prometheus = prometheus;
  }

  public boolean hasPrometheus() {
    return prometheus.isPresent();
  }

  public LoadStore load() {
    return load;
  }

  /** Samples of {@code metric} for {@code app} from {@code from} to {@code to}. */
  public Samples fetch(AppKey app, MetricConfig metric, Instant from, Instant to, Duration step)
      throws IOException {
    Query query = metric.query();
    if (query == null || query.source() == null) {
      throw new IOException("metric " + metric.name() + " has no query (source load or "
          + "prometheus)");
    }
    return switch (query.source().toLowerCase(Locale.ROOT)) {
      case "load" -> new Samples(fromLoad(app, SubsetRole.BASELINE, query, from, to),
          fromLoad(app, SubsetRole.CANARY, query, from, to));
      case "prometheus" -> {
        PrometheusSource source = prometheus.orElseThrow(() -> new IOException("metric "
            + metric.name() + " reads Prometheus, but the server has no --prometheus URL"));
        yield new Samples(source.samples(query.template(), app, SubsetRole.BASELINE, from, to,
            step), source.samples(query.template(), app, SubsetRole.CANARY, from, to, step));
      }
      default -> throw new IOException("metric " + metric.name() + ": unknown source '"
          + query.source() + "' (load or prometheus)");
    };
  }

  /** Problems of a query that no fetch could fix, in words, or null. */
  public static String problem(MetricConfig metric) {
    Query query = metric.query();
    if (query == null || query.source() == null) {
      return "metric " + metric.name() + " needs query.source (load or prometheus)";
    }
    switch (query.source().toLowerCase(Locale.ROOT)) {
      case "load" -> {
        if (!List.of("error_rate", "requests").contains(String.valueOf(query.measure()))) {
          return "metric " + metric.name() + ": query.measure must be error_rate or requests "
              + "for source load";
        }
      }
      case "prometheus" -> {
        if (query.template() == null || query.template().isBlank()) {
          return "metric " + metric.name() + ": query.template (PromQL) is required for source "
              + "prometheus";
        }
      }
      default -> {
        return "metric " + metric.name() + ": unknown query.source '" + query.source()
            + "' (load or prometheus)";
      }
    }
    return null;
  }

  private double[] fromLoad(AppKey app, SubsetRole role, Query query, Instant from,
      Instant to) throws IOException {
    List<LoadStore.Interval> intervals = load.intervals(app, role, from, to);
    double[] samples = new double[intervals.size()];
    for (int i = 0; i < samples.length; i++) {
      LoadStore.Totals totals = intervals.get(i).totals();
      samples[i] = switch (String.valueOf(query.measure())) {
        case "error_rate" -> totals.errorRate();
        case "requests" -> totals.succeeded() + totals.errors();
        default -> throw new IOException("query.measure must be error_rate or requests for "
            + "source load, not " + query.measure());
      };
    }
    return samples;
  }
}
