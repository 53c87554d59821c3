package dev.steelyard.view;

import java.util.Locale;

/** The role a pod plays for its app; each role is one subset cluster. */
public enum SubsetRole {
  MAIN,
  BASELINE,
  CANARY;

  /** The label value and the name used in APIs: {@code main}, {@code baseline}, {@code canary}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static SubsetRole fromLabel(String label) {
    for (SubsetRole role : values()) {
      if (role.label().equals(label)) {
        return role;
      }
    }
    throw new IllegalArgumentException(
        "unknown role '" + label + "': expected main, baseline or canary");
  }
}
