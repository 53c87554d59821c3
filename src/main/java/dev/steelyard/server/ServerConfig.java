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
 * @param bindHost the address the xDS port listens on
 * @param adminBindHost the address the admin port listens on; {@code serve} keeps it on
 *     loopback when no admin token is set and {@code --bind} is not given
 * @param xdsKeepalive how long an xDS connection may be silent before the server pings it; a
 *     ping unanswered for as long again closes the connection, and a proxy behind a half-open
 *     connection leaves {@code /api/v1/proxies} (measured with a frozen Envoy and 2 s: 11 s)
 * @param maxConnections the most connections the admin port holds open at once; a connection
 *     over it is closed as soon as it is accepted, so that no client can use up the process's
 *     file descriptors (and with them the other port and the apps-file poller). The xDS port's
 *     cap is in {@code xdsLimits}: it holds a connection per proxy.
 * @param adminIdleTimeout an admin connection that sends and receives nothing this long is closed
 * @param xdsAuth how xDS clients authenticate (bearer token, client certificates, or none)
 * @param xdsLimits what one xDS client may make the server hold, and the xDS connection cap
 * @param analysis where automatic judgments get their metrics: the proxies' load reports (how
 *     often they report, how finely and how long they are kept) and Prometheus
 */
public record ServerConfig(
    String bindHost,
    String adminBindHost,
    int xdsPort,
    int adminPort,
    Path dataDir,
    TranslatorSettings translator,
    Optional<String> adminToken,
    Duration holdoff,
    Duration maxHoldoff,
    Duration xdsKeepalive,
    int maxConnections,
    Duration adminIdleTimeout,
    XdsAuth xdsAuth,
    XdsLimits xdsLimits,
    Analysis analysis) {

  public static final int DEFAULT_MAX_CONNECTIONS = 1024;
  public static final Duration DEFAULT_ADMIN_IDLE_TIMEOUT = Duration.ofSeconds(60);

  public ServerConfig {
    if (maxConnections < 1 || xdsLimits.maxConnections() < 1) {
      throw new IllegalArgumentException("connection caps must be at least 1, got "
          + maxConnections + " (admin) and " + xdsLimits.maxConnections() + " (xDS)");
    }
  }

  public static ServerConfig defaults(Path dataDir) {
    return new ServerConfig("0.0.0.0", "127.0.0.1", 18000, 18080, dataDir,
        TranslatorSettings.DEFAULTS, Optional.empty(), Duration.ofMillis(20),
        Duration.ofMillis(200), Duration.ofSeconds(30), DEFAULT_MAX_CONNECTIONS,
        DEFAULT_ADMIN_IDLE_TIMEOUT, XdsAuth.none(), XdsLimits.defaults(), Analysis.DEFAULTS);
  }

  public ServerConfig withPorts(int xds, int admin) {
    return new ServerConfig(bindHost, adminBindHost, xds, admin, dataDir, translator, adminToken,
        holdoff, maxHoldoff, xdsKeepalive, maxConnections, adminIdleTimeout, xdsAuth, xdsLimits,
        analysis);
  }

  /** Both ports on {@code host}. */
  public ServerConfig withBindHost(String host) {
    return new ServerConfig(host, host, xdsPort, adminPort, dataDir, translator, adminToken,
        holdoff, maxHoldoff, xdsKeepalive, maxConnections, adminIdleTimeout, xdsAuth, xdsLimits,
        analysis);
  }

  /** The admin port on {@code host}; the xDS port stays where it was. */
  public ServerConfig withAdminBindHost(String host) {
    return new ServerConfig(bindHost, host, xdsPort, adminPort, dataDir, translator, adminToken,
        holdoff, maxHoldoff, xdsKeepalive, maxConnections, adminIdleTimeout, xdsAuth, xdsLimits,
        analysis);
  }

  public ServerConfig withAdminToken(Optional<String> token) {
    return new ServerConfig(bindHost, adminBindHost, xdsPort, adminPort, dataDir, translator,
        token, holdoff, maxHoldoff, xdsKeepalive, maxConnections, adminIdleTimeout, xdsAuth,
        xdsLimits, analysis);
  }

  public ServerConfig withTranslator(TranslatorSettings settings) {
    return new ServerConfig(bindHost, adminBindHost, xdsPort, adminPort, dataDir, settings,
        adminToken, holdoff, maxHoldoff, xdsKeepalive, maxConnections, adminIdleTimeout, xdsAuth,
        xdsLimits, analysis);
  }

  public ServerConfig withHoldoff(Duration quiet, Duration max) {
    return new ServerConfig(bindHost, adminBindHost, xdsPort, adminPort, dataDir, translator,
        adminToken, quiet, max, xdsKeepalive, maxConnections, adminIdleTimeout, xdsAuth,
        xdsLimits, analysis);
  }

  public ServerConfig withXdsKeepalive(Duration keepalive) {
    return new ServerConfig(bindHost, adminBindHost, xdsPort, adminPort, dataDir, translator,
        adminToken, holdoff, maxHoldoff, keepalive, maxConnections, adminIdleTimeout, xdsAuth,
        xdsLimits, analysis);
  }

  /** The admin port's connection cap. */
  public ServerConfig withMaxConnections(int max) {
    return new ServerConfig(bindHost, adminBindHost, xdsPort, adminPort, dataDir, translator,
        adminToken, holdoff, maxHoldoff, xdsKeepalive, max, adminIdleTimeout, xdsAuth, xdsLimits,
        analysis);
  }

  public ServerConfig withAdminIdleTimeout(Duration timeout) {
    return new ServerConfig(bindHost, adminBindHost, xdsPort, adminPort, dataDir, translator,
        adminToken, holdoff, maxHoldoff, xdsKeepalive, maxConnections, timeout, xdsAuth,
        xdsLimits, analysis);
  }

  public ServerConfig withXdsAuth(XdsAuth auth) {
    return new ServerConfig(bindHost, adminBindHost, xdsPort, adminPort, dataDir, translator,
        adminToken, holdoff, maxHoldoff, xdsKeepalive, maxConnections, adminIdleTimeout, auth,
        xdsLimits, analysis);
  }

  public ServerConfig withXdsLimits(XdsLimits limits) {
    return new ServerConfig(bindHost, adminBindHost, xdsPort, adminPort, dataDir, translator,
        adminToken, holdoff, maxHoldoff, xdsKeepalive, maxConnections, adminIdleTimeout, xdsAuth,
        limits, analysis);
  }

  public ServerConfig withAnalysis(Analysis settings) {
    return new ServerConfig(bindHost, adminBindHost, xdsPort, adminPort, dataDir, translator,
        adminToken, holdoff, maxHoldoff, xdsKeepalive, maxConnections, adminIdleTimeout, xdsAuth,
        xdsLimits, settings);
  }

  /**
   * Metric sources for automatic judgments.
   *
   * @param loadReportInterval how often proxies send load reports (LRS)
   * @param loadResolution the width of a kept load bucket; an analysis samples per bucket
   * @param loadRetention how long load buckets are kept
   * @param prometheus the Prometheus server PromQL metrics are read from, if any
   */
  public record Analysis(Duration loadReportInterval, Duration loadResolution,
      Duration loadRetention, Optional<java.net.URI> prometheus) {

    public static final Analysis DEFAULTS = new Analysis(Duration.ofSeconds(10),
        Duration.ofSeconds(10), Duration.ofHours(1), Optional.empty());

    public Analysis withPrometheus(Optional<java.net.URI> url) {
      return new Analysis(loadReportInterval, loadResolution, loadRetention, url);
    }

    /** Load reports every {@code interval}, kept in buckets as wide. */
    public Analysis withLoadInterval(Duration interval) {
      return new Analysis(interval, interval, loadRetention, prometheus);
    }
  }
}
