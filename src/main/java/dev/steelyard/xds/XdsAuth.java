package dev.steelyard.xds;

import java.nio.file.Path;
import java.util.Optional;

/**
 * How xDS clients authenticate. With neither set, the port is open to anyone who reaches it.
 *
 * @param token a bearer token clients send in the gRPC metadata
 * @param tls the server's certificate and the CA that client certificates must chain to
 */
public record XdsAuth(Optional<String> token, Optional<Tls> tls) {

  /** TLS on the xDS port; with a client CA, clients present certificates signed by it. */
  public record Tls(Path certificate, Path privateKey, Optional<Path> clientCa) {}

  public static XdsAuth none() {
    return new XdsAuth(Optional.empty(), Optional.empty());
  }

  public static XdsAuth token(String token) {
    return new XdsAuth(Optional.of(token), Optional.empty());
  }

  public boolean required() {
    return token.isPresent() || clientCertificates();
  }

  boolean clientCertificates() {
    return tls.flatMap(Tls::clientCa).isPresent();
  }

  /** For the startup log line: which methods are on, never the secrets. */
  public String describe() {
    if (!required()) {
      return tls.isPresent() ? "TLS, no client authentication" : "none";
    }
    String methods = (token.isPresent() ? "bearer token" : "")
        + (token.isPresent() && clientCertificates() ? " or " : "")
        + (clientCertificates() ? "client certificate" : "");
    return (tls.isPresent() ? "TLS, " : "plaintext, ") + methods;
  }
}
