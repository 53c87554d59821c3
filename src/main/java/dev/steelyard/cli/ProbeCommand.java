package dev.steelyard.cli;

import dev.steelyard.demo.SplitProbe;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "probe", mixinStandardHelpOptions = true,
    description = "Send requests to xds:///APP through a real proxyless gRPC xDS client and "
        + "print where they landed, per role. The backends must answer the demo RoleService.")
final class ProbeCommand implements Callable<Integer> {

  @Parameters(paramLabel = "APP", description = "the name a client dials, e.g. hello-app or "
      + "hello-app.default.svc.cluster.local")
  String app;

  @Option(names = {"-n", "--requests"}, defaultValue = "1000") int requests;

  @Option(names = "--xds", defaultValue = "${env:STEELYARD_XDS:-127.0.0.1:18000}",
      description = "Control plane xDS address (env STEELYARD_XDS; default ${DEFAULT-VALUE}).")
  String xds;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (requests < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--requests must be >= 1");
    }
    if (System.getenv("GRPC_XDS_BOOTSTRAP") == null) {
      // Read once per JVM by grpc-xds; this JVM makes no other xDS channel.
      System.setProperty("io.grpc.xds.bootstrapConfig", bootstrap(xds));
    }
    SplitProbe.Result result = SplitProbe.run("xds:///" + app, requests, 20);
    PrintWriter out = spec.commandLine().getOut();
    out.printf("probe xds:///%s via %s: %d requests%n", app, xds, result.total());
    for (Map.Entry<String, Integer> entry : result.counts().entrySet()) {
      out.printf(Locale.ROOT, "  %-22s %7d  %6.2f%%%n", entry.getKey(), entry.getValue(),
          100.0 * entry.getValue() / result.total());
    }
    out.flush();
    boolean allFailed = result.counts().keySet().stream().allMatch(key -> key.startsWith("error"));
    return allFailed ? 1 : 0;
  }

  static String bootstrap(String server) {
    return "{\"xds_servers\":[{\"server_uri\":\"" + server + "\","
        + "\"channel_creds\":[{\"type\":\"insecure\"}],\"server_features\":[\"xds_v3\"]}],"
        + "\"node\":{\"id\":\"steelyard-probe-" + ProcessHandle.current().pid() + "\","
        + "\"cluster\":\"steelyard-probe\",\"locality\":{\"zone\":\"default\"},"
        + "\"metadata\":{\"steelyard.kind\":\"grpc\"}}}";
  }
}
