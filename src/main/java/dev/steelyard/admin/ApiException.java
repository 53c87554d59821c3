package dev.steelyard.admin;

/** An admin request that fails with an HTTP status and a message for the caller. */
final class ApiException extends RuntimeException {

  final int status;

  ApiException(int status, String message) {
    super(message);
    this.status = status;
  }
}
