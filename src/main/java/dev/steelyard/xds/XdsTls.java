package dev.steelyard.xds;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import javax.net.ssl.SSLException;

/** The xDS port's TLS: the server's certificate, and the CA client certificates chain to. */
public final class XdsTls {

  private XdsTls() {}

  /**
   * A server context for {@code auth}'s TLS files (PEM; the key in PKCS#8). With a client CA,
   * the handshake verifies client certificates against it: required, unless a bearer token is
   * another way in, in which case a client without a certificate must send the token.
   */
  public static SslContext serverContext(XdsAuth auth) throws IOException {
    XdsAuth.Tls tls = auth.tls().orElseThrow();
    try {
      SslContextBuilder builder = GrpcSslContexts.forServer(tls.certificate().toFile(),
          tls.privateKey().toFile());
      if (tls.clientCa().isPresent()) {
        builder.trustManager(tls.clientCa().get().toFile())
            .clientAuth(auth.token().isPresent() ? ClientAuth.OPTIONAL : ClientAuth.REQUIRE);
      }
      return builder.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IOException("cannot use the xDS TLS files " + tls.certificate() + " and "
          + tls.privateKey() + tls.clientCa().map(ca -> " (client CA " + ca + ")").orElse("")
          + ": " + e.getMessage(), e);
    }
  }
}
