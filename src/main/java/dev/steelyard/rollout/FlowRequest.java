package dev.steelyard.rollout;

import java.time.Duration;
import java.util.List;

/**
 * A start request as the API takes it (POST .../rollout). Absent fields are null and take their
 * defaults in {@link FlowMachine#start}: steps 1, 10, 25, 50; manual judgment; helm sizing; a
 * test's weight cap 50 % and one canary replica; ACK timeout 30 s; post-promotion window 1 h.
 * {@code fromVersion} names the version main runs where the driver cannot tell (file mode);
 * without it such a main is called {@value #UNKNOWN_VERSION}.
 */
public record FlowRequest(
    String kind,
    String version,
    String fromVersion,
    List<Double> steps,
    Judgment judgment,
    String sizing,
    Integer canaryReplicas,
    Double weight,
    Double weightCap,
    Duration timeLimit,
    Duration ackTimeout,
    Duration postPromotionWindow) {

  public static final Duration DEFAULT_ACK_TIMEOUT = Duration.ofSeconds(30);
  public static final Duration DEFAULT_POST_PROMOTION_WINDOW = Duration.ofHours(1);
  public static final double DEFAULT_WEIGHT_CAP = 50;
  public static final String UNKNOWN_VERSION = "current";

  public static FlowRequest deploy(String version, List<Double> steps, Judgment judgment) {
    return new FlowRequest("deploy", version, null, steps, judgment, null, null, null, null,
        null, null, null);
  }

  public static FlowRequest test(String version, int canaryReplicas, double weight) {
    return new FlowRequest("test", version, null, null, null, null, canaryReplicas, weight, null,
        null, null, null);
  }
}
