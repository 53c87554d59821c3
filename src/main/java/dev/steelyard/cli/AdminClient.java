package dev.steelyard.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.steelyard.admin.AdminServer;
import dev.steelyard.server.SteelyardServer;
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

  private final String given;
  private final URI base;
  private final Optional<String> token;
  // HTTP/1.1 only: the admin API speaks nothing else, and an h2c upgrade offer sent to the
  // xDS port (gRPC, HTTP/2) only blurs what went wrong.
  private final HttpClient http = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5))
      .build();

  AdminClient(String base, Optional<String> token) {
    this.given = base;
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

  /**
   * A call of the rollout API (Jackson JSON rather than protobuf messages): {@code body} null
   * for none; returns the answer as a map.
   */
  @SuppressWarnings("unchecked")
  java.util.Map<String, Object> call(String method, String path, Object body)
      throws AdminError {
    HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path));
    try {
      String json = body == null ? "" : dev.steelyard.rollout.FlowStore.JSON
          .writeValueAsString(body);
      request.header("content-type", "application/json")
          .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
              : HttpRequest.BodyPublishers.ofString(json));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    if (!method.equals("GET")) {
      token.ifPresent(value -> request.header("Authorization", "Bearer " + value));
    }
    String answer = exchange(request);
    try {
      return dev.steelyard.rollout.FlowStore.JSON.readValue(answer, java.util.Map.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AdminError(0, "unexpected answer from the admin API: " + e.getOriginalMessage());
    }
  }

  private <T extends Message.Builder> T send(HttpRequest.Builder request, T into)
      throws AdminError {
    String body = exchange(request);
    try {
      JsonFormat.parser().ignoringUnknownFields().merge(body, into);
    } catch (InvalidProtocolBufferException e) {
      throw new AdminError(0, "unexpected answer from the admin API: " + e.getMessage());
    }
    return into;
  }

  private String exchange(HttpRequest.Builder request) throws AdminError {
    HttpResponse<String> response;
    try {
      response = http.send(request.timeout(Duration.ofSeconds(30))
              .header("User-Agent", AdminServer.CLI_USER_AGENT_PREFIX + SteelyardServer.VERSION)
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException e) {
      throw new AdminError(0, "cannot reach the admin API at " + base
          + " (is `steelyard serve` running?)");
    } catch (IOException e) {
      if (notHttp(e)) {
        throw new AdminError(0, "--admin " + given
            + ": not an HTTP/1.1 admin API (is that the xDS port?)");
      }
      throw new AdminError(0, "admin API at " + base + ": " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AdminError(0, "interrupted");
    }
    if (response.statusCode() != 200 && response.statusCode() != 201) {
      throw new AdminError(response.statusCode(), errorMessage(response.body()));
    }
    return response.body();
  }

  /**
   * The peer answered with something that is not an HTTP/1.1 response. The JDK says so only in
   * its message, which quotes the bytes it got (an HTTP/2 GOAWAY frame from the xDS port).
   */
  private static boolean notHttp(IOException e) {
    String message = String.valueOf(e.getMessage());
    return e instanceof java.net.ProtocolException || message.contains("status line")
        || message.contains("header parser");
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
