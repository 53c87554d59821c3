package dev.steelyard.xds;

import dev.steelyard.net.RateLimitedLog;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who may open an xDS stream: a client with a verified certificate (TLS with client
 * certificates, checked by the TLS handshake against the configured CA), or one that sends the
 * bearer token in the gRPC metadata ({@code authorization: Bearer ...}, Envoy's
 * {@code initial_metadata}). With neither configured every client is let in, anonymously.
 * A refused stream is closed before it reaches the protocol, so it never counts as a proxy.
 */
final class XdsAuthentication implements ServerInterceptor {

  private static final Logger log = LoggerFactory.getLogger(XdsAuthentication.class);
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Optional<byte[]> tokenDigest;
  private final boolean required;
  private final Counter failures;
  private final RateLimitedLog refusals = new RateLimitedLog(log, 10);

  /**
   * @param token the bearer token, if streams may authenticate with one
   * @param certificates whether the transport verifies client certificates
   */
  XdsAuthentication(Optional<String> token, boolean certificates, MeterRegistry meters) {
    this.tokenDigest = token.map(XdsAuthentication::digest);
    this.required = token.isPresent() || certificates;
    this.failures = Counter.builder("steelyard_xds_auth_failures_total")
        .description("xDS streams refused for a missing or wrong credential")
        .register(meters);
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
      Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    XdsPeer peer = certificatePeer(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    if (peer == null && required) {
      String refusal = tokenRefusal(headers.get(AUTHORIZATION));
      if (refusal != null) {
        failures.increment();
        refusals.warn("refused an xDS stream from {}: {}",
            call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), refusal);
        call.close(Status.UNAUTHENTICATED.withDescription(refusal), new Metadata());
        return new ServerCall.Listener<>() {};
      }
      peer = new XdsPeer(true, "token", "token");
    }
    Context context = Context.current().withValue(XdsPeer.KEY,
        peer == null ? XdsPeer.ANONYMOUS : peer);
    return Contexts.interceptCall(context, call, headers, next);
  }

  /** Why {@code authorization} does not let the stream in, or null if it does. */
  private String tokenRefusal(String authorization) {
    if (tokenDigest.isEmpty()) {
      return "steelyard's xDS port needs a client certificate";
    }
    if (authorization == null) {
      return "steelyard's xDS port needs a bearer token (gRPC metadata "
          + "\"authorization: Bearer <token>\") or a client certificate; none was sent";
    }
    if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return "the authorization metadata is not \"Bearer <token>\"";
    }
    if (!MessageDigest.isEqual(tokenDigest.get(), digest(authorization.substring(7).strip()))) {
      return "the bearer token is wrong";
    }
    return null;
  }

  /** The peer a verified client certificate names, or null without one. */
  private static XdsPeer certificatePeer(SSLSession session) {
    if (session == null) {
      return null;
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
        return null;
      }
      return new XdsPeer(true, "certificate", String.join(",", CertificateNames.of(leaf)));
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
  }

  private static byte[] digest(String value) {
    try {
      // Compared as digests, so the comparison takes the same time whatever the length.
      return MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
