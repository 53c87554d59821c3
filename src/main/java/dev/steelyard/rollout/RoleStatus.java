package dev.steelyard.rollout;

/**
 * What a driver sees of a role's workload: the version it runs (empty when the driver cannot
 * tell, as in file mode), its replicas and how many are ready.
 */
public record RoleStatus(String version, int replicas, int ready) {

  public static final RoleStatus ABSENT = new RoleStatus("", 0, 0);

  public RoleStatus {
    version = version == null ? "" : version;
  }

  /** Whether the workload is where {@code target} wants it. */
  public boolean satisfies(RoleTarget target) {
    if (target.replicas() == 0) {
      return replicas == 0 && ready == 0;
    }
    boolean versionKnown = !version.isEmpty();
    return ready >= target.replicas() && (!versionKnown || version.equals(target.version()));
  }
}
