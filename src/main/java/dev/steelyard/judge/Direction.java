package dev.steelyard.judge;

/** Which change of the canary against the baseline fails a metric (Kayenta's "direction"). */
public enum Direction {
  /** Fails only when the canary is higher (latency, errors, memory). */
  INCREASE,
  /** Fails only when the canary is lower (successes, throughput). */
  DECREASE,
  /** Fails either way. Kayenta's default. */
  EITHER
}
