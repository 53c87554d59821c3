package dev.steelyard.rollout;

import java.time.Duration;

/**
 * How each step of a canary deploy is judged: {@code type} names a {@link Judge} ("manual": an
 * operator approves; "pause": continue after {@code pause}; "automatic": baseline against
 * canary, from the proxies' load reports and from Prometheus, as {@code analysis} says).
 * {@code window} is the analysis window an automatic judge looks at (manual and pause judges
 * ignore it); {@code analysis} is null for the other judges.
 */
public record Judgment(String type, Duration pause, Duration window, Analysis analysis) {

  public static final Judgment MANUAL = new Judgment("manual", Duration.ZERO, Duration.ZERO,
      null);
  public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(5);

  public Judgment {
    type = type == null || type.isEmpty() ? "manual" : type;
    pause = pause == null ? Duration.ZERO : pause;
    window = window == null ? (type.equals("automatic") ? DEFAULT_WINDOW : Duration.ZERO)
        : window;
    analysis = analysis == null && type.equals("automatic") ? Analysis.DEFAULTS : analysis;
  }

  public Judgment(String type, Duration pause, Duration window) {
    this(type, pause, window, null);
  }

  @Override
  public String toString() {
    return switch (type) {
      case "pause" -> "pause " + pause;
      case "automatic" -> "automatic over " + window + " (" + analysis + ")";
      default -> type;
    };
  }
}
