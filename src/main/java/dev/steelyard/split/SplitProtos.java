package dev.steelyard.split;

import dev.steelyard.admin.v1.Split;
import java.util.OptionalDouble;

/** A split policy as the admin API's {@link Split} message, and back (validated). */
public final class SplitProtos {

  private SplitProtos() {}

  public static Split toProto(SplitPolicy policy) {
    return Split.newBuilder()
        .setMode(policy.mode().label())
        .setCanaryWeight(policy.canaryPercent())
        .build();
  }

  /**
   * A stored split. Files written before the weight had presence left out a weight of 0, so an
   * absent weight reads as 0 here.
   */
  public static SplitPolicy fromProto(Split split) throws InvalidSplitException {
    return SplitPolicy.of(split.getMode(), split.getCanaryWeight());
  }

  /** A split an operator sent: test and deploy need their weight. */
  public static SplitPolicy fromRequest(Split split) throws InvalidSplitException {
    return SplitPolicy.of(split.getMode(), split.hasCanaryWeight()
        ? OptionalDouble.of(split.getCanaryWeight()) : OptionalDouble.empty());
  }
}
