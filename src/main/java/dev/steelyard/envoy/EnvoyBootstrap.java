package dev.steelyard.envoy;

import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.ProxyScope;
import java.util.Optional;

/**
 * The one source of Envoy bootstraps: {@code envoy-configs/*.yaml}, the ConfigMaps in
 * {@code k8s/} and {@code steelyard bootstrap} are all this class's output (a test checks the
 * files against it, and {@code envoy --mode validate} checks the output).
 *
 * <p>Everything but the control plane's address comes over ADS. What the bootstrap adds to
 * Envoy's defaults, and why:
 * <ul>
 *   <li>HTTP/2 keepalive on the xDS connection, so that a half-open connection (a control plane
 *       host that vanished without a FIN) is noticed within {@value #KEEPALIVE_INTERVAL} +
 *       {@value #KEEPALIVE_TIMEOUT} instead of leaving Envoy on stale config indefinitely.
 *       The interval stays above the server's {@code permitKeepAliveTime} (10 s).
 *   <li>A bounded reconnect back-off, so that a restarted control plane is reached again within
 *       seconds rather than after Envoy's default 30 s maximum.
 *   <li>With a token, the xDS stream's {@code authorization: Bearer} metadata, which the server
 *       checks before a stream counts as a proxy.
 * </ul>
 */
public record EnvoyBootstrap(
    ProxyKind kind,
    Optional<String> nodeId,
    String nodeCluster,
    Optional<String> app,
    String xdsHost,
    int xdsPort,
    String adminHost,
    int adminPort,
    Optional<String> xdsToken,
    Optional<Tls> xdsTls,
    Optional<ProxyScope> calls) {

  /**
   * TLS to the control plane: Envoy's certificate and key (PEM files on the proxy's host), the
   * CA the control plane's certificate chains to, and the name to check it for (SNI as well).
   */
  public record Tls(String certificate, String privateKey, String ca, String serverName) {
    public Tls {
      for (String value : new String[] {certificate, privateKey, ca, serverName}) {
        // Written into YAML as they are: no quoting to get wrong.
        if (!value.matches("[A-Za-z0-9._/@:-]+")) {
          throw new IllegalArgumentException("'" + value + "': TLS paths and the server name "
              + "are letters, digits and ._/@:- only");
        }
      }
    }
  }

  static final String KEEPALIVE_INTERVAL = "30s";
  static final String KEEPALIVE_TIMEOUT = "5s";

  public EnvoyBootstrap {
    if (kind == ProxyKind.GRPC) {
      throw new IllegalArgumentException("a gRPC client is not an Envoy: its bootstrap is JSON "
          + "for grpc-xds (see README, Proxyless gRPC)");
    }
  }

  /** The bootstrap in {@code envoy-configs/}: a gateway or sidecar next to a local control plane. */
  public static EnvoyBootstrap local(ProxyKind kind) {
    return kind == ProxyKind.GATEWAY
        ? new EnvoyBootstrap(kind, Optional.of("gateway"), "steelyard-gateway", Optional.empty(),
            "127.0.0.1", 18000, "127.0.0.1", 9901, Optional.empty(), Optional.empty(),
            Optional.empty())
        : new EnvoyBootstrap(kind, Optional.of("sidecar"), "steelyard-sidecar",
            Optional.of("default/hello-app"), "127.0.0.1", 18000, "127.0.0.1", 9902,
            Optional.empty(), Optional.empty(), Optional.empty());
  }

  /**
   * The bootstrap in the {@code k8s/} ConfigMaps: the control plane's Service, the admin port
   * open to the kubelet's readiness probe, and no node id (each pod sets its own with
   * {@code --service-node}).
   */
  public static EnvoyBootstrap inCluster(ProxyKind kind, String cluster, Optional<String> app) {
    return new EnvoyBootstrap(kind, Optional.empty(), cluster, app,
        "steelyard.steelyard-system.svc.cluster.local", 18000, "0.0.0.0", 9901,
        Optional.of(TOKEN_PLACEHOLDER), Optional.empty(), Optional.empty());
  }

  /**
   * Where the in-cluster bootstraps hold the xDS token: a ConfigMap is no place for a secret, so
   * the pod's start command puts the token from its Secret in place of this (k8s/README.md).
   */
  public static final String TOKEN_PLACEHOLDER = "@STEELYARD_XDS_TOKEN@";

  public EnvoyBootstrap withXds(String host, int port) {
    return new EnvoyBootstrap(kind, nodeId, nodeCluster, app, host, port, adminHost, adminPort,
        xdsToken, xdsTls, calls);
  }

  public EnvoyBootstrap withAdmin(String host, int port) {
    return new EnvoyBootstrap(kind, nodeId, nodeCluster, app, xdsHost, xdsPort, host, port,
        xdsToken, xdsTls, calls);
  }

  public EnvoyBootstrap withNode(Optional<String> id, String cluster, Optional<String> ofApp) {
    return new EnvoyBootstrap(kind, id, cluster, ofApp, xdsHost, xdsPort, adminHost, adminPort,
        xdsToken, xdsTls, calls);
  }

  /** With the bearer token Envoy sends on its xDS stream. */
  public EnvoyBootstrap withXdsToken(Optional<String> token) {
    token.ifPresent(value -> {
      if (!value.matches("[A-Za-z0-9._~+/=@-]+")) {
        throw new IllegalArgumentException("an xDS token is letters, digits and ._~+/=@- only");
      }
    });
    return new EnvoyBootstrap(kind, nodeId, nodeCluster, app, xdsHost, xdsPort, adminHost,
        adminPort, token, xdsTls, calls);
  }

  /** With TLS and a client certificate on the xDS connection. */
  public EnvoyBootstrap withXdsTls(Optional<Tls> tls) {
    return new EnvoyBootstrap(kind, nodeId, nodeCluster, app, xdsHost, xdsPort, adminHost,
        adminPort, xdsToken, tls, calls);
  }

  /** A sidecar that calls only these apps, and is sent only their resources (ProxyScope). */
  public EnvoyBootstrap withCalls(Optional<ProxyScope> scope) {
    if (scope.isPresent() && kind != ProxyKind.SIDECAR) {
      throw new IllegalArgumentException("only a sidecar declares the apps it calls");
    }
    return new EnvoyBootstrap(kind, nodeId, nodeCluster, app, xdsHost, xdsPort, adminHost,
        adminPort, xdsToken, xdsTls, scope.filter(declared -> !declared.all()));
  }

  /** The bootstrap as YAML, without a header comment. */
  public String yaml() {
    StringBuilder yaml = new StringBuilder();
    yaml.append("node:\n");
    nodeId.ifPresent(id -> yaml.append("  id: ").append(id).append('\n'));
    yaml.append("  cluster: ").append(nodeCluster).append('\n');
    yaml.append("  metadata:\n");
    yaml.append("    steelyard.kind: ").append(kind.label()).append('\n');
    app.ifPresent(name -> yaml.append("    steelyard.app: ").append(name).append('\n'));
    // Quoted: a namespace/* entry is not plain YAML.
    calls.ifPresent(scope -> yaml.append("    ").append(ProxyScope.METADATA_KEY).append(": \"")
        .append(scope.label()).append("\"\n"));
    yaml.append("""
        dynamic_resources:
          ads_config:
            api_type: GRPC
            transport_api_version: V3
            set_node_on_first_message_only: true
            grpc_services:
              - envoy_grpc:
                  cluster_name: steelyard_xds
                  retry_policy:
                    retry_back_off: {base_interval: 0.25s, max_interval: 5s}
        %s  cds_config:
            ads: {}
            resource_api_version: V3
          lds_config:
            ads: {}
            resource_api_version: V3
        cluster_manager:
          # Load reports (LRS) per cluster to the control plane, for automatic canary judgment.
          load_stats_config:
            api_type: GRPC
            transport_api_version: V3
            grpc_services:
              - envoy_grpc:
                  cluster_name: steelyard_xds
        %sstatic_resources:
          clusters:
            - name: steelyard_xds
              type: STRICT_DNS
              connect_timeout: 1s
              typed_extension_protocol_options:
                envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                  "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                  explicit_http_config:
                    http2_protocol_options:
                      connection_keepalive: {interval: %s, timeout: %s}
              load_assignment:
                cluster_name: steelyard_xds
                endpoints:
                  - lb_endpoints:
                      - endpoint:
                          address:
                            socket_address:
                              address: %s
                              port_value: %d
        %sadmin:
          address:
            socket_address:
              address: %s
              port_value: %d
        """.formatted(tokenYaml(), tokenYaml(),
        KEEPALIVE_INTERVAL, KEEPALIVE_TIMEOUT, xdsHost, xdsPort,
        xdsTls.map(EnvoyBootstrap::tlsYaml).orElse(""), adminHost, adminPort));
    return yaml.toString();
  }

  /** The token on a gRPC service of the bootstrap: ADS and load reports alike. */
  private String tokenYaml() {
    return xdsToken.map(token -> "        initial_metadata:\n"
        + "          - {key: authorization, value: \"Bearer " + token + "\"}\n").orElse("");
  }

  private static String tlsYaml(Tls tls) {
    return """
              transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                  sni: %s
                  common_tls_context:
                    alpn_protocols: [h2]
                    tls_certificates:
                      - certificate_chain: {filename: %s}
                        private_key: {filename: %s}
                    validation_context:
                      trusted_ca: {filename: %s}
                      match_typed_subject_alt_names:
                        - san_type: DNS
                          matcher: {exact: %s}
        """.formatted(tls.serverName(), tls.certificate(), tls.privateKey(), tls.ca(),
        tls.serverName());
  }

  /** The bootstrap as {@code envoy-configs/} holds it: a comment on how to run it, then YAML. */
  public String annotatedYaml() {
    String run = kind == ProxyKind.GATEWAY
        ? """
        # Envoy as a Steelyard gateway: every listener, route, cluster and endpoint comes from the
        # control plane over ADS (state of the world, v3). Run with
        #   envoy -c envoy-configs/gateway.yaml --service-node gateway-$(hostname)
        # The control plane serves this gateway an HTTP listener on 0.0.0.0:10080 (serve
        # --gateway-port) that routes each app's gatewayHosts by its gateway split.
        """
        : """
        # Envoy as a Steelyard sidecar: an explicit outbound proxy, no iptables. The app sends its
        # requests to 127.0.0.1:15001 (serve --sidecar-port) with the target's name as Host
        # (hello-app, hello-app.default, ...:8080 and so on), and Envoy splits them by the app's
        # mesh split. Run with
        #   envoy -c envoy-configs/sidecar.yaml --service-node "$POD_NAME.$POD_NAMESPACE"
        # steelyard.app names the app this sidecar belongs to; it is shown in /api/v1/proxies.
        """;
    return run + """
        # --service-node overrides node.id, so each proxy shows up on its own in /api/v1/proxies.
        # Generated by `steelyard bootstrap --kind %s`; for another control plane address or admin
        # port, run `steelyard bootstrap --kind %s --xds HOST:PORT --admin HOST:PORT`.
        """.formatted(kind.label(), kind.label())
        + xdsTls.map(tls -> """
        # This one connects over TLS with a client certificate (steelyard bootstrap
        # --xds-tls-cert FILE --xds-tls-key FILE --xds-tls-ca FILE): the control plane
        # (serve --xds-tls-client-ca) takes it as the proxy whose node id is one of the
        # certificate's names, and the control plane's certificate must carry the DNS name %s.
        # Files: %s, %s, %s.
        """.formatted(tls.serverName(), tls.certificate(), tls.privateKey(), tls.ca()))
            .orElse("")
        + yaml();
  }
}
