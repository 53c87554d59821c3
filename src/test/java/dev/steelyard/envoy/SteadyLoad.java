package dev.steelyard.envoy;

import dev.steelyard.demo.HttpProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Requests sent without pause through one Envoy listener with one Host, {@code workers} at a
 * time, until stopped; every outcome is counted, and the first few failures are kept with the
 * moment they happened, for the report.
 */
final class SteadyLoad implements AutoCloseable {

  private final HttpProbe http;
  private final int port;
  private final String host;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Map<String, Integer> counts = new ConcurrentHashMap<>();
  private final List<String> firstFailures = new ArrayList<>();
  private final long started;
  private int inFlight;

  /** @param started the time base of the failures' timestamps ({@link System#nanoTime}) */
  SteadyLoad(HttpProbe http, int port, String host, int workers, long started) {
    this.started = started;
    this.http = http;
    this.port = port;
    this.host = host;
    for (int i = 0; i < workers; i++) {
      next();
    }
  }

  private void next() {
    if (!running.get()) {
      return;
    }
    synchronized (this) {
      inFlight++;
    }
    http.send(port, host, "/", Duration.ofSeconds(10)).thenAccept(outcome -> {
      counts.merge(outcome, 1, Integer::sum);
      if (!HttpProbe.isRole(outcome)) {
        synchronized (firstFailures) {
          if (firstFailures.size() < 10) {
            firstFailures.add(String.format("+%.3f s %s",
                (System.nanoTime() - started) / 1e9, outcome));
          }
        }
      }
      synchronized (this) {
        inFlight--;
        notifyAll();
      }
      next();
    });
  }

  /**
   * Stops sending and waits for the requests in flight; one still unanswered after 15 s is
   * counted as a failure, so a lost request cannot pass for none.
   */
  @Override
  public synchronized void close() {
    if (!running.getAndSet(false)) {
      return;
    }
    long deadline = System.currentTimeMillis() + 15_000;
    while (inFlight > 0 && System.currentTimeMillis() < deadline) {
      try {
        wait(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (inFlight > 0) {
      counts.merge("error: still unanswered at the end", inFlight, Integer::sum);
    }
  }

  Map<String, Integer> counts() {
    return new TreeMap<>(counts);
  }

  int total() {
    return counts.values().stream().mapToInt(Integer::intValue).sum();
  }

  int failed() {
    return counts.entrySet().stream()
        .filter(entry -> !HttpProbe.isRole(entry.getKey()))
        .mapToInt(Map.Entry::getValue).sum();
  }

  List<String> firstFailures() {
    synchronized (firstFailures) {
      return List.copyOf(firstFailures);
    }
  }

  String describe() {
    return String.format("%s via :%d: %d requests, %d not 2xx %s%s", host, port, total(),
        failed(), counts(), failed() == 0 ? "" : " first: " + firstFailures());
  }
}
