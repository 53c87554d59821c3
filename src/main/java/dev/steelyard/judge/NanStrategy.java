package dev.steelyard.judge;

/** What to do with NaN samples (an interval without data). */
public enum NanStrategy {
  /** Drop them; a side left empty makes the metric NODATA. Kayenta's documented default. */
  REMOVE,
  /** Count them as 0, for counters that report nothing when nothing happened. */
  REPLACE
}
