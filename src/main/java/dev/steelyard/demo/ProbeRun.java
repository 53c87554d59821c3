package dev.steelyard.demo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * One probe run: sends requests a few at a time and tallies where each landed, per role and, for
 * failed requests, per endpoint where the client can tell. Thread-safe, so that progress and an
 * interrupted run can be reported while requests are still in flight.
 */
public final class ProbeRun {

  /**
   * How one request ended. {@code role} and {@code endpoint} are null when unknown (a request that
   * failed before it reached a backend, or behind a proxy); {@code failure} is null on success.
   */
  public record Outcome(String role, String endpoint, String failure) {
    public static Outcome answered(String role, String endpoint) {
      return new Outcome(role, endpoint, null);
    }

    public static Outcome failed(String role, String endpoint, String failure) {
      return new Outcome(role, endpoint, failure);
    }

    /**
     * From an {@link HttpProbe} key: a role, or "HTTP 503" and "error: ..." whose role and
     * endpoint a proxy in between does not tell.
     */
    public static Outcome ofHttp(String key) {
      return HttpProbe.isRole(key) ? answered(key, null) : failed(null, null, key);
    }
  }

  /** A line of the result: a role, or a kind of failure whose role is unknown. */
  public record Row(String key, int requests, int failed, String percent) {}

  /** Failed requests with the same role, endpoint and reason. */
  public record Failure(String role, String endpoint, String reason, int count) {}

  /** What is known so far; {@code rows} percentages add up to exactly 100.00. */
  public record Tally(int requested, int finished, int failed, List<Row> rows,
      List<Failure> failures) {}

  private static final List<String> ROLE_ORDER = List.of("main", "baseline", "canary");
  static final Duration SLOW_AFTER = Duration.ofMillis(250);

  private final int requested;
  private final Map<String, int[]> rows = new LinkedHashMap<>();
  private final Map<List<String>, Integer> failures = new LinkedHashMap<>();
  private int finished;
  private int failed;

  public ProbeRun(int requested) {
    this.requested = requested;
  }

  /**
   * Sends {@code requested} requests, at most {@code concurrency} at a time, and waits for all of
   * them. Each request must end on its own (a deadline per call), so this ends too. A request
   * that has not ended after {@link #SLOW_AFTER} stops counting against {@code concurrency}:
   * requests to a hanging endpoint wait out their deadlines side by side instead of holding
   * every slot while the healthy endpoints sit idle.
   */
  public void send(int concurrency, Supplier<CompletableFuture<Outcome>> request)
      throws InterruptedException {
    Semaphore slots = new Semaphore(concurrency);
    CountDownLatch ended = new CountDownLatch(requested);
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(task -> {
      Thread thread = new Thread(task, "steelyard-probe-slow");
      thread.setDaemon(true);
      return thread;
    });
    try {
      for (int i = 0; i < requested; i++) {
        slots.acquire();
        AtomicBoolean slotHeld = new AtomicBoolean(true);
        Runnable freeSlot = () -> {
          if (slotHeld.compareAndSet(true, false)) {
            slots.release();
          }
        };
        CompletableFuture<Outcome> outcome;
        try {
          outcome = request.get();
        } catch (RuntimeException e) {
          outcome = CompletableFuture.failedFuture(e);
        }
        ScheduledFuture<?> slow = timer.schedule(freeSlot, SLOW_AFTER.toMillis(),
            TimeUnit.MILLISECONDS);
        outcome.whenComplete((result, error) -> {
          record(error == null ? result
              : Outcome.failed(null, null, "error: " + error.getClass().getSimpleName()));
          slow.cancel(false);
          freeSlot.run();
          ended.countDown();
        });
      }
      ended.await();
    } finally {
      timer.shutdownNow();
    }
  }

  public synchronized void record(Outcome outcome) {
    finished++;
    String key = outcome.role() != null ? outcome.role() : failureKey(outcome.failure());
    int[] row = rows.computeIfAbsent(key, k -> new int[2]);
    row[0]++;
    if (outcome.failure() != null) {
      failed++;
      row[1]++;
      failures.merge(java.util.Arrays.asList(outcome.role(), outcome.endpoint(),
          outcome.failure()), 1, Integer::sum);
    }
  }

  /** "UNAVAILABLE: io exception" is counted as "error: UNAVAILABLE" when its role is unknown. */
  private static String failureKey(String failure) {
    if (failure.startsWith("HTTP ") || failure.startsWith("error: ")) {
      return failure;
    }
    int colon = failure.indexOf(':');
    return "error: " + (colon < 0 ? failure : failure.substring(0, colon));
  }

  public synchronized Tally tally() {
    List<String> keys = new ArrayList<>(rows.keySet());
    keys.sort(java.util.Comparator.comparingInt((String key) -> {
      int index = ROLE_ORDER.indexOf(key);
      return index < 0 ? ROLE_ORDER.size() : index;
    }).thenComparing(key -> key));
    int[] counts = keys.stream().mapToInt(key -> rows.get(key)[0]).toArray();
    int[] basisPoints = largestRemainder(counts);
    List<Row> result = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      result.add(new Row(keys.get(i), counts[i], rows.get(keys.get(i))[1],
          String.format(java.util.Locale.ROOT, "%d.%02d", basisPoints[i] / 100,
              basisPoints[i] % 100)));
    }
    List<Failure> failed = new ArrayList<>();
    failures.forEach((key, count) -> failed.add(
        new Failure(key.get(0), key.get(1), key.get(2), count)));
    failed.sort(java.util.Comparator.comparingInt(Failure::count).reversed());
    return new Tally(requested, finished, this.failed, result, failed);
  }

  /**
   * Shares of {@code counts} in hundredths of a percent that add up to exactly 10,000: each gets
   * its rounded-down share, and what is left goes one by one to the largest remainders, so that
   * the printed percentages never sum to 99.99 or 100.01.
   */
  public static int[] largestRemainder(int[] counts) {
    long total = java.util.Arrays.stream(counts).asLongStream().sum();
    int[] shares = new int[counts.length];
    if (total == 0) {
      return shares;
    }
    long[] remainders = new long[counts.length];
    int left = 10_000;
    for (int i = 0; i < counts.length; i++) {
      shares[i] = (int) (counts[i] * 10_000L / total);
      remainders[i] = counts[i] * 10_000L % total;
      left -= shares[i];
    }
    for (; left > 0; left--) {
      int best = 0;
      for (int i = 1; i < counts.length; i++) {
        if (remainders[i] > remainders[best]) {
          best = i;
        }
      }
      shares[best]++;
      remainders[best] = -1;
    }
    return shares;
  }
}
