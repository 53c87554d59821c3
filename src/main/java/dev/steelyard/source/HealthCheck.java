package dev.steelyard.source;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the control plane checks an app's endpoints (apps file {@code healthCheck}): an endpoint
 * that fails {@code unhealthyThreshold} checks in a row leaves its subset until it passes
 * {@code healthyThreshold} in a row.
 */
public record HealthCheck(Type type, String path, Duration interval, Duration timeout,
    int unhealthyThreshold, int healthyThreshold) {

  public enum Type {
    /** A TCP connection is accepted. */
    TCP,
    /** {@code GET path} answers 2xx. */
    HTTP,
    /** {@code grpc.health.v1.Health/Check} answers SERVING. */
    GRPC
  }

  private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m)");

  public HealthCheck {
    if (interval.isZero() || interval.isNegative() || timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException("healthCheck: interval and timeout must be > 0");
    }
    if (timeout.compareTo(interval) > 0) {
      throw new IllegalArgumentException("healthCheck: timeout " + timeout.toMillis()
          + " ms is longer than interval " + interval.toMillis() + " ms");
    }
    if (unhealthyThreshold < 1 || healthyThreshold < 1) {
      throw new IllegalArgumentException("healthCheck: thresholds must be >= 1");
    }
    if (type == Type.HTTP && !path.startsWith("/")) {
      throw new IllegalArgumentException("healthCheck: path '" + path + "' must start with /");
    }
  }

  /** From the file's entry; absent keys take the defaults documented in the README. */
  static HealthCheck of(AppFileParser.HealthCheckEntry entry) {
    Type type;
    String typeText = entry.type() == null ? "tcp" : entry.type();
    try {
      type = Type.valueOf(typeText.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("healthCheck.type '" + typeText
          + "' must be tcp, http or grpc");
    }
    if (entry.path() != null && type != Type.HTTP) {
      throw new IllegalArgumentException("healthCheck.path is only for type http");
    }
    return new HealthCheck(type, entry.path() == null ? "/healthz" : entry.path(),
        duration("interval", entry.interval(), Duration.ofSeconds(2)),
        duration("timeout", entry.timeout(), Duration.ofSeconds(1)),
        entry.unhealthyThreshold() == null ? 2 : entry.unhealthyThreshold(),
        entry.healthyThreshold() == null ? 1 : entry.healthyThreshold());
  }

  private static Duration duration(String key, String text, Duration fallback) {
    if (text == null) {
      return fallback;
    }
    Matcher matcher = DURATION.matcher(text.trim());
    if (!matcher.matches()) {
      throw new IllegalArgumentException("healthCheck." + key + " '" + text
          + "' must be a duration such as 2s or 500ms");
    }
    long amount = Long.parseLong(matcher.group(1));
    return switch (matcher.group(2)) {
      case "ms" -> Duration.ofMillis(amount);
      case "s" -> Duration.ofSeconds(amount);
      default -> Duration.ofMinutes(amount);
    };
  }
}
