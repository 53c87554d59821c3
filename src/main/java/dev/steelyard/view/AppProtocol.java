package dev.steelyard.view;

import java.util.Locale;

/** What an app's endpoints speak; Envoy needs HTTP/2 towards gRPC backends. */
public enum AppProtocol {
  HTTP,
  GRPC;

  public static AppProtocol fromText(String text) {
    return switch (text.toLowerCase(Locale.ROOT)) {
      case "http" -> HTTP;
      case "grpc", "http2" -> GRPC;
      default -> throw new IllegalArgumentException(
          "unknown protocol '" + text + "': expected http or grpc");
    };
  }
}
