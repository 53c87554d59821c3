package dev.steelyard.rollout;

import java.util.List;

/**
 * Hears the history entries a flow gains, oldest first, once the flow is persisted (e.g. to
 * record them as Kubernetes Events). Called under the engine's lock on the thread that changed
 * the flow, so it must return quickly and not throw: queue the work.
 */
public interface HistoryListener {

  HistoryListener NONE = (flow, entries) -> {};

  void recorded(Flow flow, List<HistoryEntry> entries);

  /**
   * The entries {@code after} has that {@code before} (null for a new flow) had not: those
   * following the last one {@code before} had (the history is bounded, so its length alone does
   * not say what is new).
   */
  static List<HistoryEntry> added(Flow before, Flow after) {
    if (before == null || before.history().isEmpty()) {
      return after.history();
    }
    List<HistoryEntry> earlier = before.history();
    int from = after.history().lastIndexOf(earlier.get(earlier.size() - 1)) + 1;
    return after.history().subList(from, after.history().size());
  }
}
