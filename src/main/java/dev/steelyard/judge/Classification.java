package dev.steelyard.judge;

/** One metric's verdict, Kayenta's labels. */
public enum Classification {
  PASS,
  /** The canary is significantly higher, beyond the allowed effect size. */
  HIGH,
  /** The canary is significantly lower, beyond the allowed effect size. */
  LOW,
  /** A side had no samples left after NaN handling. */
  NODATA,
  /** A side had no samples and the metric is configured {@code mustHaveData}: counts as failed. */
  NODATA_FAIL
}
