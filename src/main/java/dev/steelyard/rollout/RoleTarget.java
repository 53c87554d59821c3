package dev.steelyard.rollout;

/** What a role's workload should run: a version and a replica count (0: gone). */
public record RoleTarget(String version, int replicas) {

  public static final RoleTarget NONE = new RoleTarget("", 0);

  public RoleTarget {
    if (replicas < 0) {
      throw new IllegalArgumentException("replicas must not be negative: " + replicas);
    }
    version = version == null ? "" : version;
  }

  @Override
  public String toString() {
    return replicas == 0 ? "0" : replicas + " x " + version;
  }
}
