package dev.steelyard.rollout;

/**
 * A judge's answer about the current step: not yet, continue, roll back, or hold for an
 * operator (an automatic judgment that could not say: no data, a marginal score); why; and,
 * for an automatic judgment, the evidence (null otherwise).
 */
public record Verdict(Decision decision, String reason, Evidence evidence) {

  public enum Decision { PENDING, CONTINUE, ROLLBACK, HOLD }

  public static Verdict pending(String reason) {
    return new Verdict(Decision.PENDING, reason, null);
  }

  public static Verdict proceed(String reason) {
    return new Verdict(Decision.CONTINUE, reason, null);
  }

  public static Verdict rollback(String reason) {
    return new Verdict(Decision.ROLLBACK, reason, null);
  }

  public Verdict withEvidence(Evidence value) {
    return new Verdict(decision, reason, value);
  }
}
