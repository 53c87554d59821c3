package dev.steelyard.net;

import org.slf4j.Logger;

/**
 * A warning that a client can cause, written at most {@code perMinute} times a minute: a
 * flood of bad clients (wrong tokens, undecodable messages, repeated NACKs) must not flood the
 * log. Used on both ports. The first line after a quiet spell says how
 * many were left out.
 */
public final class RateLimitedLog {

  private final Logger log;
  private final int perMinute;
  private long windowStart = System.nanoTime();
  private int written;
  private long suppressed;

  public RateLimitedLog(Logger log, int perMinute) {
    this.log = log;
    this.perMinute = perMinute;
  }

  public void warn(String format, Object... arguments) {
    long left;
    synchronized (this) {
      long now = System.nanoTime();
      if (now - windowStart > 60_000_000_000L) {
        windowStart = now;
        written = 0;
      }
      if (written >= perMinute) {
        suppressed++;
        return;
      }
      written++;
      left = suppressed;
      suppressed = 0;
    }
    if (left > 0) {
      log.warn("({} similar warnings left out in the last minute)", left);
    }
    log.warn(format, arguments);
  }
}
