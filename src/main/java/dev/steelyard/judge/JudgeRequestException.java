package dev.steelyard.judge;

/** A judge request or config that cannot be used; the message starts with where. */
public final class JudgeRequestException extends IllegalArgumentException {

  public JudgeRequestException(String message) {
    super(message);
  }
}
