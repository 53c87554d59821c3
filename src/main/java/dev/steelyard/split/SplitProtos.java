package dev.steelyard.split;

import dev.steelyard.admin.v1.Split;

/** A split policy as the admin API's {@link Split} message, and back (validated). */
public final class SplitProtos {

  private SplitProtos() {}

  public static Split toProto(SplitPolicy policy) {
    return Split.newBuilder()
        .setMode(policy.mode().label())
        .setCanaryWeight(policy.canaryPercent())
        .build();
  }

  public static SplitPolicy fromProto(Split split) throws InvalidSplitException {
    return SplitPolicy.of(split.getMode(), split.getCanaryWeight());
  }
}
