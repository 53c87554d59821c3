package dev.steelyard.loop;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's background loops (the apps-file poller, the health-check scheduler, the publisher,
 * the Kubernetes status writer) and whether each still runs. A periodic task that throws is
 * cancelled for good by its executor, silently: an OutOfMemoryError once stopped the apps-file
 * poller, so later file changes were ignored and nothing said so. Each loop body therefore runs
 * {@link #surviving}, and what stops anyway shows in {@code /readyz} and {@code /api/v1/status}.
 */
public final class BackgroundLoops {

  private static final Logger log = LoggerFactory.getLogger(BackgroundLoops.class);

  private final Map<String, Supplier<Optional<String>>> loops = new ConcurrentHashMap<>();

  /**
   * {@code body} as a task that never throws: anything it throws, errors included, is logged and
   * the loop goes on with its next run. An OutOfMemoryError may pass (the heap is freed when the
   * failed run's objects go); a loop that cannot go on shows as stopped.
   */
  public static Runnable surviving(String name, Runnable body) {
    return () -> {
      try {
        body.run();
      } catch (Throwable e) {
        try {
          log.error("{} failed; it keeps running", name, e);
        } catch (Throwable ignored) {
          // Logging itself failed (out of memory): the loop must still survive.
        }
      }
    };
  }

  /** Registers a loop; {@code stoppedReason} is empty while it runs. */
  public void register(String name, Supplier<Optional<String>> stoppedReason) {
    loops.put(name, stoppedReason);
  }

  /** A loop that runs as a periodic task: stopped once {@code task} is done, unless closing. */
  public void register(String name, Supplier<? extends Future<?>> task, BooleanSupplier closing) {
    register(name, () -> {
      Future<?> future = task.get();
      if (future == null || !future.isDone() || closing.getAsBoolean()) {
        return Optional.empty();
      }
      return Optional.of(why(future));
    });
  }

  /** A loop that runs on a thread of its own: stopped once it is dead, unless closing. */
  public void register(String name, Thread thread, BooleanSupplier closing) {
    register(name, () -> thread.isAlive() || closing.getAsBoolean() || !started(thread)
        ? Optional.empty() : Optional.of("its thread " + thread.getName() + " ended"));
  }

  private static boolean started(Thread thread) {
    return thread.getState() != Thread.State.NEW;
  }

  private static String why(Future<?> future) {
    try {
      future.get();
      return "it ended";
    } catch (CancellationException e) {
      return "it was cancelled";
    } catch (ExecutionException e) {
      return "it failed: " + e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "it ended";
    }
  }

  /** {@code "name: why"} for each loop that stopped, sorted by name; empty when all run. */
  public List<String> stopped() {
    List<String> stopped = new ArrayList<>();
    loops.forEach((name, reason) -> {
      Optional<String> why;
      try {
        why = reason.get();
      } catch (RuntimeException e) {
        why = Optional.of("its state cannot be read: " + e);
      }
      why.ifPresent(text -> stopped.add(name + ": " + text));
    });
    stopped.sort(null);
    return stopped;
  }
}
