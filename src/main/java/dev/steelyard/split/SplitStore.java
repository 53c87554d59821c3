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

  /** Called after every change, on the writer's thread. */
  void onChange(Runnable listener);
}
