package dev.steelyard.split;

import dev.steelyard.view.AppKey;
import java.io.IOException;
import java.util.Map;

/** Where splits live between restarts. Writes are durable before {@link #set} returns. */
public interface SplitStore {

  /** All splits set so far, by app. Apps without an entry are {@link AppSplits#DEFAULT}. */
  Map<AppKey, AppSplits> all();

  /** All splits with the revision each came from, read together (the publisher's input). */
  default SplitSnapshot snapshot() {
    return new SplitSnapshot(all(), Map.of());
  }

  default AppSplits get(AppKey key) {
    return all().getOrDefault(key, AppSplits.DEFAULT);
  }

  /** Stores the splits of one app; on failure nothing changes. */
  void set(AppKey key, AppSplits splits) throws IOException;

  /**
   * Stores the splits of one app whose durable record is elsewhere, and may tell the listeners
   * before its own write is durable: a rollout flow is written before it acts, and a restart
   * acts on it again, so a rollback's push need not wait for this store's fsyncs. Returns once
   * durable, as {@link #set}; on failure the previous splits are back (the listeners told
   * again) and the exception thrown. A store whose write is what publishes a change (the
   * cluster's TrafficSplits) just sets.
   */
  default void setAlreadyRecorded(AppKey key, AppSplits splits) throws IOException {
    set(key, splits);
  }

  /** Called after every change, on the writer's thread. */
  void onChange(Runnable listener);
}
