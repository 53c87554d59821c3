package dev.steelyard.admin;

import java.time.Duration;
import java.util.function.LongConsumer;
import org.slf4j.Logger;

/**
 * At most one log line per interval for an event a client can cause at will (a wrong token
 * sent in a loop must not fill the disk); the next line says how many were left out.
 */
final class RateLimitedLog {

  private final long intervalNanos;
  private long lastLogged;
  private boolean loggedOnce;
  private long suppressed;

  RateLimitedLog(Duration interval) {
    this.intervalNanos = interval.toNanos();
  }

  /** Calls {@code line} with the number of events left out since the last line, or counts. */
  synchronized void warn(Logger log, LongConsumer line) {
    long now = System.nanoTime();
    if (loggedOnce && now - lastLogged < intervalNanos) {
      suppressed++;
      return;
    }
    if (log.isWarnEnabled()) {
      line.accept(suppressed);
    }
    loggedOnce = true;
    lastLogged = now;
    suppressed = 0;
  }
}
