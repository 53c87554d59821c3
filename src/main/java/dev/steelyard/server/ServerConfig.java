package dev.steelyard.server;

import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.xds.XdsAuth;
import dev.steelyard.xds.XdsLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How a Steelyard server is run; the CLI's {@code serve} flags map onto this one to one.
 *
 * @param xdsKeepalive how long an xDS connection may be silent before the server pings it; a
 *     ping unanswered for as long again closes the connection, and a proxy behind a half-open
 *     connection leaves {@code /api/v1/proxies} (measured with a frozen Envoy and 2 s: 11 s)
 * @param xdsAuth how xDS clients authenticate (bearer token, client certificates, or none)
 * @param xdsLimits what one xDS client may make the server hold, and the connection cap
 */
public record ServerConfig(
    String bindHost,
    int xdsPort,
    int adminPort,
    Path dataDir,
    TranslatorSettings translator,
    Optional<String> adminToken,
    Duration holdoff,
    Duration maxHoldoff,
    Duration xdsKeepalive,
    XdsAuth xdsAuth,
    XdsLimits xdsLimits) {

  public static ServerConfig defaults(Path dataDir) {
    return new ServerConfig("0.0.0.0", 18000, 18080, dataDir, TranslatorSettings.DEFAULTS,
        Optional.empty(), Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(30),
        XdsAuth.none(), XdsLimits.defaults());
  }

  public ServerConfig withPorts(int xds, int admin) {
    return new ServerConfig(bindHost, xds, admin, dataDir, translator, adminToken, holdoff,
        maxHoldoff, xdsKeepalive, xdsAuth, xdsLimits);
  }

  public ServerConfig withBindHost(String host) {
    return new ServerConfig(host, xdsPort, adminPort, dataDir, translator, adminToken, holdoff,
        maxHoldoff, xdsKeepalive, xdsAuth, xdsLimits);
  }

  public ServerConfig withAdminToken(Optional<String> token) {
    return new ServerConfig(bindHost, xdsPort, adminPort, dataDir, translator, token, holdoff,
        maxHoldoff, xdsKeepalive, xdsAuth, xdsLimits);
  }

  public ServerConfig withTranslator(TranslatorSettings settings) {
    return new ServerConfig(bindHost, xdsPort, adminPort, dataDir, settings, adminToken, holdoff,
        maxHoldoff, xdsKeepalive, xdsAuth, xdsLimits);
  }

  public ServerConfig withHoldoff(Duration quiet, Duration max) {
    return new ServerConfig(bindHost, xdsPort, adminPort, dataDir, translator, adminToken, quiet,
        max, xdsKeepalive, xdsAuth, xdsLimits);
  }

  public ServerConfig withXdsKeepalive(Duration keepalive) {
    return new ServerConfig(bindHost, xdsPort, adminPort, dataDir, translator, adminToken,
        holdoff, maxHoldoff, keepalive, xdsAuth, xdsLimits);
  }

  public ServerConfig withXdsAuth(XdsAuth auth) {
    return new ServerConfig(bindHost, xdsPort, adminPort, dataDir, translator, adminToken,
        holdoff, maxHoldoff, xdsKeepalive, auth, xdsLimits);
  }

  public ServerConfig withXdsLimits(XdsLimits limits) {
    return new ServerConfig(bindHost, xdsPort, adminPort, dataDir, translator, adminToken,
        holdoff, maxHoldoff, xdsKeepalive, xdsAuth, limits);
  }
}
