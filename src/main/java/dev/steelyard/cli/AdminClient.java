package dev.steelyard.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/** A small client of the admin REST API for the CLI. */
final class AdminClient {

  /** The server answered with an error; {@code status} 400 means the input was bad. */
  static final class AdminError extends Exception {
    final int status;

    AdminError(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  private final URI base;
  private final Optional<String> token;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  AdminClient(String base, Optional<String> token) {
    this.base = URI.create(base.endsWith("/") ? base : base + "/");
    this.token = token;
  }

  <T extends Message.Builder> T get(String path, T into) throws AdminError {
    return send(HttpRequest.newBuilder(base.resolve(path)).GET(), into);
  }

  <T extends Message.Builder> T put(String path, Message body, T into) throws AdminError {
    String json;
    try {
      json = JsonFormat.printer().print(body);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
    HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path))
        .header("content-type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(json));
    token.ifPresent(value -> request.header("Authorization", "Bearer " + value));
    return send(request, into);
  }

  private <T extends Message.Builder> T send(HttpRequest.Builder request, T into)
      throws AdminError {
    HttpResponse<String> response;
    try {
      response = http.send(request.timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException e) {
      throw new AdminError(0, "cannot reach the admin API at " + base
          + " (is `steelyard serve` running?)");
    } catch (IOException e) {
      throw new AdminError(0, "admin API at " + base + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AdminError(0, "interrupted");
    }
    if (response.statusCode() != 200) {
      throw new AdminError(response.statusCode(), errorMessage(response.body()));
    }
    try {
      JsonFormat.parser().ignoringUnknownFields().merge(response.body(), into);
    } catch (InvalidProtocolBufferException e) {
      throw new AdminError(0, "unexpected answer from the admin API: " + e.getMessage());
    }
    return into;
  }

  private static String errorMessage(String body) {
    try {
      com.google.protobuf.Struct.Builder error = com.google.protobuf.Struct.newBuilder();
      JsonFormat.parser().merge(body, error);
      var field = error.getFieldsMap().get("error");
      if (field != null) {
        return field.getStringValue();
      }
    } catch (InvalidProtocolBufferException ignored) {
      // Not our JSON; show the body as it is.
    }
    return body.strip();
  }
}
