package dev.steelyard.rollout;

import java.util.Locale;

/** The two flows: a canary deploy (baseline and canary, steps, promotion) and a canary test. */
public enum FlowKind {
  DEPLOY,
  TEST;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static FlowKind fromLabel(String label) throws FlowException {
    for (FlowKind kind : values()) {
      if (kind.label().equals(label)) {
        return kind;
      }
    }
    throw FlowException.badRequest("kind must be deploy or test, not '" + label + "'");
  }
}
