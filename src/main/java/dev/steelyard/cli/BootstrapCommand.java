package dev.steelyard.cli;

import dev.steelyard.envoy.EnvoyBootstrap;
import dev.steelyard.translate.ProxyKind;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bootstrap", mixinStandardHelpOptions = true,
    description = "Print an Envoy bootstrap for a gateway or a sidecar of this control plane "
        + "(envoy-configs/ holds the defaults). Run Envoy with it: "
        + "envoy -c FILE --service-node NAME")
final class BootstrapCommand implements Callable<Integer> {

  @Option(names = "--kind", required = true, description = "gateway or sidecar")
  String kind;

  @Option(names = "--xds", defaultValue = "127.0.0.1:18000",
      description = "The control plane's xDS address HOST:PORT. Default ${DEFAULT-VALUE}.")
  String xds;

  @Option(names = "--admin", paramLabel = "HOST:PORT",
      description = "Envoy's admin address. Default 127.0.0.1:9901 (gateway), "
          + "127.0.0.1:9902 (sidecar).")
  String admin;

  @Option(names = "--node-id", description = "node.id; --service-node overrides it; empty "
      + "for none (then --service-node is required). Default: the kind.")
  String nodeId;

  @Option(names = "--cluster", description = "node.cluster. Default steelyard-KIND.")
  String cluster;

  @Option(names = "--app", description = "with --kind sidecar: the app this sidecar belongs "
      + "to, namespace/name. Default default/hello-app.")
  String app;

  /** Checked here, as the value is written into YAML as it is. */
  private static final String CALLS = "[a-z0-9-]+/([a-z0-9-]+|\\*)(,[a-z0-9-]+/([a-z0-9-]+|\\*))*";

  @Option(names = "--calls", paramLabel = "APPS",
      description = "with --kind sidecar: the apps this sidecar calls, comma-separated "
          + "namespace/name or namespace/*; it is then sent only their clusters and routes. "
          + "Default: every app.")
  String calls;

  @Option(names = "--xds-token-file", paramLabel = "FILE",
      description = "Put the bearer token in this file into the xDS stream's initial_metadata "
          + "(the server's --xds-token-file).")
  java.nio.file.Path xdsTokenFile;

  @Option(names = "--xds-tls-cert", paramLabel = "PEM",
      description = "Connect to the control plane over TLS with this client certificate (a "
          + "path on the proxy's host; its names must include the node id).")
  String xdsTlsCert;

  @Option(names = "--xds-tls-key", paramLabel = "PEM", description = "The key of --xds-tls-cert.")
  String xdsTlsKey;

  @Option(names = "--xds-tls-ca", paramLabel = "PEM",
      description = "The CA the control plane's certificate chains to.")
  String xdsTlsCa;

  @Option(names = "--xds-server-name", defaultValue = "steelyard",
      description = "With TLS: the DNS name the control plane's certificate must carry (also "
          + "sent as SNI). Default ${DEFAULT-VALUE}.")
  String xdsServerName;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    ProxyKind proxyKind = switch (kind.toLowerCase(Locale.ROOT)) {
      case "gateway" -> ProxyKind.GATEWAY;
      case "sidecar" -> ProxyKind.SIDECAR;
      default -> throw new CommandLine.ParameterException(spec.commandLine(),
          "--kind is '" + kind + "': expected gateway or sidecar");
    };
    if (app != null && proxyKind != ProxyKind.SIDECAR) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--app is for sidecars");
    }
    if (app != null && !app.matches("[a-z0-9-]+/[a-z0-9-]+")) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--app is '" + app + "': expected namespace/name");
    }
    if (calls != null && proxyKind != ProxyKind.SIDECAR) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--calls is for sidecars");
    }
    if (calls != null && !calls.matches(CALLS)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--calls is '" + calls
          + "': expected namespace/name or namespace/*, comma-separated");
    }
    for (String[] value : new String[][] {{"--node-id", nodeId}, {"--cluster", cluster}}) {
      // Written into YAML as they are: no quoting to get wrong.
      if (value[1] != null && !value[1].matches("[A-Za-z0-9._-]*")) {
        throw new CommandLine.ParameterException(spec.commandLine(), value[0] + " is '"
            + value[1] + "': letters, digits, '.', '_' and '-' only");
      }
    }
    EnvoyBootstrap bootstrap = EnvoyBootstrap.local(proxyKind);
    HostPort xdsAddress = HostPort.parse(spec, "--xds", xds);
    bootstrap = bootstrap.withXds(xdsAddress.host(), xdsAddress.port());
    if (admin != null) {
      HostPort adminAddress = HostPort.parse(spec, "--admin", admin);
      bootstrap = bootstrap.withAdmin(adminAddress.host(), adminAddress.port());
    }
    bootstrap = bootstrap.withNode(
        nodeId != null ? Optional.of(nodeId).filter(id -> !id.isEmpty()) : bootstrap.nodeId(),
        cluster != null ? cluster : bootstrap.nodeCluster(),
        app != null ? Optional.of(app) : bootstrap.app());
    if (calls != null) {
      bootstrap = bootstrap.withCalls(Optional.of(
          dev.steelyard.translate.ProxyScope.parse(List.of(calls.split(",")))));
    }
    boolean anyTls = xdsTlsCert != null || xdsTlsKey != null || xdsTlsCa != null;
    if (anyTls) {
      if (xdsTlsCert == null || xdsTlsKey == null || xdsTlsCa == null) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--xds-tls-cert, --xds-tls-key and --xds-tls-ca go together");
      }
      try {
        bootstrap = bootstrap.withXdsTls(Optional.of(new EnvoyBootstrap.Tls(xdsTlsCert,
            xdsTlsKey, xdsTlsCa, xdsServerName)));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      }
    }
    if (xdsTokenFile != null) {
      String token;
      try {
        token = java.nio.file.Files.readString(xdsTokenFile).strip();
      } catch (java.io.IOException e) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--xds-token-file: " + dev.steelyard.source.FileReadErrors.describe("xDS token file",
                xdsTokenFile, e));
      }
      try {
        bootstrap = bootstrap.withXdsToken(Optional.of(token));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--xds-token-file: " + e.getMessage());
      }
    }
    spec.commandLine().getOut().print(bootstrap.annotatedYaml());
    spec.commandLine().getOut().flush();
    return 0;
  }

  record HostPort(String host, int port) {
    static HostPort parse(CommandLine.Model.CommandSpec spec, String option, String value) {
      int colon = value.lastIndexOf(':');
      try {
        if (colon <= 0) {
          throw new NumberFormatException();
        }
        int port = Integer.parseInt(value.substring(colon + 1));
        if (port < 1 || port > 65535) {
          throw new NumberFormatException();
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
          host = host.substring(1, host.length() - 1);
        }
        if (!host.matches("[A-Za-z0-9.:-]+")) {
          throw new NumberFormatException();
        }
        return new HostPort(host, port);
      } catch (NumberFormatException e) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            option + " is '" + value + "': expected HOST:PORT");
      }
    }
  }
}
