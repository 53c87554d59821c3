package dev.steelyard.cli;

import dev.steelyard.admin.v1.AppState;
import dev.steelyard.admin.v1.RolloutProgress;
import dev.steelyard.admin.v1.Split;
import dev.steelyard.admin.v1.SubsetState;
import java.io.PrintWriter;
import java.util.Locale;
import picocli.CommandLine;

/** Plain-text output of the client commands and their exit codes. */
final class Output {

  interface Action {
    void run() throws AdminClient.AdminError, BadArgument;
  }

  /** Arguments that cannot mean what the user wants; reported in one line, exit 2. */
  static final class BadArgument extends Exception {
    BadArgument(String message) {
      super(message);
    }
  }

  /** {@code -o}: the plain-text tables, or protobuf's JSON mapping of the API types. */
  enum Format { text, json }

  private Output() {}

  /** One API message as the REST API serves it (protobuf's JSON mapping). */
  static String json(com.google.protobuf.MessageOrBuilder message) {
    try {
      return com.google.protobuf.util.JsonFormat.printer().print(message);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Runs an admin call: exit 0, 2 for bad arguments and input the server rejected (400, 401,
   * 404, 409), 1 otherwise.
   */
  static int run(CommandLine.Model.CommandSpec spec, Action action) {
    try {
      action.run();
      spec.commandLine().getOut().flush();
      return 0;
    } catch (BadArgument | AdminClient.AdminError e) {
      return fail(spec, e);
    }
  }

  /** Prints the one-line reason and returns the exit code for it. */
  static int fail(CommandLine.Model.CommandSpec spec, Exception e) {
    spec.commandLine().getOut().flush();
    spec.commandLine().getErr().println("steelyard: " + e.getMessage());
    spec.commandLine().getErr().flush();
    if (e instanceof AdminClient.AdminError error) {
      return error.status == 400 || error.status == 404 || error.status == 401
          || error.status == 409 ? SteelyardCommand.BAD_INPUT : 1;
    }
    return SteelyardCommand.BAD_INPUT;
  }

  static void printApp(PrintWriter out, AppState app) {
    out.printf("%s/%s  mesh: %s  gateway: %s%s%n", app.getNamespace(), app.getName(),
        split(app.getMeshSplit()), split(app.getGatewaySplit()),
        app.getGatewayFollowsMesh() ? " (follows mesh)" : "");
    out.printf("  %-9s %9s %9s %9s %9s  %s%n", "ROLE", "MESH", "EFFECTIVE", "GATEWAY",
        "EFFECTIVE", "ENDPOINTS");
    for (SubsetState subset : app.getSubsetsList()) {
      out.printf(Locale.ROOT, "  %-9s %8.2f%% %8.2f%% %8.2f%% %8.2f%%  %s%n", subset.getRole(),
          subset.getMeshWeight(), subset.getEffectiveMeshWeight(), subset.getGatewayWeight(),
          subset.getEffectiveGatewayWeight(),
          subset.getEndpointsCount() == 0 ? "-" : String.join(",", subset.getEndpointsList()));
    }
    for (String notice : app.getNoticesList()) {
      out.println("  note: " + notice);
    }
    for (RolloutProgress progress : app.getProgressList()) {
      out.printf("  %-8s routes %s  acked by %d of %d connected%n", progress.getProxyKind(),
          progress.getRoutesVersion(), progress.getProxiesAcked(),
          progress.getProxiesConnected());
    }
  }

  static String split(Split split) {
    return split.getMode().equals("off") ? "off"
        : split.getMode() + " " + String.format(Locale.ROOT, "%.2f", split.getCanaryWeight())
            .replaceAll("\\.?0+$", "");
  }
}
