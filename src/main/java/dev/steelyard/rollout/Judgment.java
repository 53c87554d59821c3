package dev.steelyard.rollout;

import java.time.Duration;

/**
 * How each step of a canary deploy is judged: {@code type} names a {@link Judge} ("manual": an
 * operator approves; "pause": continue after {@code pause}); a later automatic judge is one more
 * name, so flows do not change shape. {@code window} is the analysis window an automatic judge
 * looks at (manual and pause judges ignore it).
 */
public record Judgment(String type, Duration pause, Duration window) {

  public static final Judgment MANUAL = new Judgment("manual", Duration.ZERO, Duration.ZERO);

  public Judgment {
    type = type == null || type.isEmpty() ? "manual" : type;
    pause = pause == null ? Duration.ZERO : pause;
    window = window == null ? Duration.ZERO : window;
  }

  @Override
  public String toString() {
    return type.equals("pause") ? "pause " + pause : type;
  }
}
