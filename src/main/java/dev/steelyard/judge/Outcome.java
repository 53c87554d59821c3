package dev.steelyard.judge;

/** The verdict of a whole judgment. */
public enum Outcome {
  PASS,
  MARGINAL,
  FAIL,
  /**
   * Half or more of the metrics had no data (Kayenta's NODATA threshold, where Kayenta fails the
   * run with score 0). Not a pass; the caller decides (wait, pause for a human).
   */
  NODATA
}
