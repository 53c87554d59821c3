package dev.steelyard.split;

/** A split that cannot be applied; the message says why and is shown to the operator as is. */
public class InvalidSplitException extends Exception {

  public InvalidSplitException(String message) {
    super(message);
  }
}
