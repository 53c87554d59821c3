package dev.steelyard.xds;

/**
 * Text from a client (a NACK's message, a node id) made safe for one log line: control
 * characters escaped, so that a newline cannot start a forged line, and cut to a length.
 */
public final class LogText {

  private LogText() {}

  public static String of(String text, int maxChars) {
    StringBuilder safe = new StringBuilder(Math.min(text.length(), maxChars) + 16);
    int i = 0;
    for (; i < text.length() && safe.length() < maxChars; i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\n' -> safe.append("\\n");
        case '\r' -> safe.append("\\r");
        case '\t' -> safe.append("\\t");
        case '\\' -> safe.append("\\\\");
        default -> {
          if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
            safe.append(String.format("\\u%04x", (int) c));
          } else {
            safe.append(c);
          }
        }
      }
    }
    if (i < text.length()) {
      safe.append("... (").append(text.length()).append(" chars)");
    }
    return safe.toString();
  }
}
