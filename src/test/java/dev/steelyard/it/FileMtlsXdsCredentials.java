package dev.steelyard.it;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.xds.XdsCredentialsProvider;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * Bootstrap {@code channel_creds} of type {@value #NAME}: TLS to the xDS server with a client
 * certificate from files ({@code ca_certificate_file}, {@code certificate_file},
 * {@code private_key_file}). grpc-java 1.85's own {@code tls} type ignores its config (it uses
 * the system trust store and no client certificate), so a proxyless client that authenticates
 * with a certificate registers a provider like this one (META-INF/services), as the README says.
 */
public final class FileMtlsXdsCredentials extends XdsCredentialsProvider {

  static final String NAME = "steelyard_mtls";

  @Override
  protected ChannelCredentials newChannelCredentials(Map<String, ?> config) {
    try {
      return TlsChannelCredentials.newBuilder()
          .trustManager(new File((String) config.get("ca_certificate_file")))
          .keyManager(new File((String) config.get("certificate_file")),
              new File((String) config.get("private_key_file")))
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  protected String getName() {
    return NAME;
  }

  @Override
  public boolean isAvailable() {
    return true;
  }

  @Override
  public int priority() {
    return 5;
  }
}
