package dev.steelyard.rollout;

/** A judge's answer about the current step: not yet, continue, or roll back; and why. */
public record Verdict(Decision decision, String reason) {

  public enum Decision { PENDING, CONTINUE, ROLLBACK }

  public static Verdict pending(String reason) {
    return new Verdict(Decision.PENDING, reason);
  }

  public static Verdict proceed(String reason) {
    return new Verdict(Decision.CONTINUE, reason);
  }

  public static Verdict rollback(String reason) {
    return new Verdict(Decision.ROLLBACK, reason);
  }
}
