package dev.steelyard.split;

import dev.steelyard.view.AppKey;
import java.util.Map;
import java.util.Optional;

/**
 * The splits a store held at one moment, and per app the revision of the source they were read
 * from (a TrafficSplit's {@code metadata.generation}; the file store has none). Read as one, so
 * whoever describes a published view can say which revision it carries.
 */
public record SplitSnapshot(Map<AppKey, AppSplits> splits, Map<AppKey, Long> generations) {

  public static final SplitSnapshot EMPTY = new SplitSnapshot(Map.of(), Map.of());

  public SplitSnapshot {
    splits = Map.copyOf(splits);
    generations = Map.copyOf(generations);
  }

  public AppSplits get(AppKey key) {
    return splits.getOrDefault(key, AppSplits.DEFAULT);
  }

  public Optional<Long> generation(AppKey key) {
    return Optional.ofNullable(generations.get(key));
  }

  /** Whether {@code key} has the same splits from the same revision in both. */
  public boolean sameFor(AppKey key, SplitSnapshot other) {
    return get(key).equals(other.get(key)) && generation(key).equals(other.generation(key));
  }
}
