package dev.steelyard.net;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The most connections one port holds open at once. A server calls {@link #tryOpen} for each
 * accepted connection and closes it at once when that says no, and calls {@link #closed} once for
 * each connection it let in when that one ends. Without a cap, 20,400 idle admin connections used
 * up the process's file descriptors: the xDS port stopped answering and the apps-file poller
 * failed with EMFILE. Exported as {@code steelyard_connections{port=...}} and
 * {@code steelyard_connections_refused_total{port=...}}.
 */
public final class ConnectionLimit {

  private final String port;
  private final int max;
  private final AtomicInteger open = new AtomicInteger();
  private final Counter refused;

  /** {@code port} names the port in metrics and logs ("admin", "xds"). */
  public ConnectionLimit(String port, int max, MeterRegistry meters) {
    if (max < 1) {
      throw new IllegalArgumentException("a connection cap must be at least 1, got " + max);
    }
    this.port = port;
    this.max = max;
    Gauge.builder("steelyard_connections", open, AtomicInteger::get)
        .description("Open connections per port").tag("port", port).register(meters);
    this.refused = Counter.builder("steelyard_connections_refused_total")
        .description("Connections closed on accept because the port's cap was reached")
        .tag("port", port).register(meters);
  }

  /** True when the new connection may stay; false (and counted) when it is over the cap. */
  public boolean tryOpen() {
    while (true) {
      int now = open.get();
      if (now >= max) {
        refused.increment();
        return false;
      }
      if (open.compareAndSet(now, now + 1)) {
        return true;
      }
    }
  }

  /** A connection that {@link #tryOpen} let in has ended. */
  public void closed() {
    open.decrementAndGet();
  }

  public int open() {
    return open.get();
  }

  public int max() {
    return max;
  }

  public String port() {
    return port;
  }

  public double refused() {
    return refused.count();
  }
}
