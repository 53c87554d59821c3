package dev.steelyard.source;

/** The apps file cannot be used; the message says where and why. */
public class InvalidAppFileException extends Exception {

  public InvalidAppFileException(String message) {
    super(message);
  }
}
