package dev.steelyard.rollout;

/** A request a flow cannot take: {@code status} is the HTTP status (400, 404, 409). */
public final class FlowException extends Exception {

  private final int status;

  public FlowException(int status, String message) {
    super(message);
    this.status = status;
  }

  public int status() {
    return status;
  }

  public static FlowException badRequest(String message) {
    return new FlowException(400, message);
  }

  public static FlowException conflict(String message) {
    return new FlowException(409, message);
  }
}
