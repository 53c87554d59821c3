package dev.steelyard.view;

import java.util.List;

/**
 * Weights for one kind of traffic (mesh or gateway): as the split sets them, and as proxies are
 * told to apply them after shares of subsets without endpoints went to main.
 */
public record TrafficWeights(SubsetWeights set, SubsetWeights effective, List<String> notices) {

  public TrafficWeights {
    notices = List.copyOf(notices);
  }
}
