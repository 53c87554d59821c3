package dev.steelyard.cli;

import dev.steelyard.admin.v1.AppState;
import dev.steelyard.admin.v1.SetSplitRequest;
import dev.steelyard.admin.v1.Split;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "split", mixinStandardHelpOptions = true,
    description = "Show or set an app's traffic split.",
    subcommands = {SplitCommand.Set.class, SplitCommand.Get.class})
final class SplitCommand implements Runnable {

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?");

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing: set or get");
  }

  /**
   * The API path of APP, {@code name} or {@code namespace/name}; {@code namespace} is the
   * {@code -n} option, null when not given. A malformed APP would otherwise reach the server as
   * some other path and come back as "no such endpoint".
   */
  static String appPath(String app, String namespace) throws Output.BadArgument {
    String[] parts = app.split("/", -1);
    boolean wellFormed = parts.length <= 2;
    for (String part : parts) {
      wellFormed &= DNS_LABEL.matcher(part).matches();
    }
    if (!wellFormed) {
      throw new Output.BadArgument("APP '" + app + "' must be name or namespace/name, each a "
          + "DNS label (lower-case letters, digits and '-')");
    }
    if (parts.length == 2 && namespace != null && !namespace.equals(parts[0])) {
      throw new Output.BadArgument("APP '" + app + "' is in namespace " + parts[0]
          + " but -n says " + namespace + "; give the namespace once");
    }
    String full = parts.length == 2 ? app
        : (namespace != null ? namespace : "default") + "/" + app;
    return "api/v1/apps/" + full;
  }

  @Command(name = "set", mixinStandardHelpOptions = true,
      description = "Set the split: off, test (main 100-n, canary n) or deploy "
          + "(main 100-2n, baseline n, canary n). Without --mode, only the gateway split "
          + "changes.")
  static final class Set implements Callable<Integer> {
    @Parameters(paramLabel = "APP", description = "name or namespace/name") String app;
    @Option(names = {"-n", "--namespace"}, description = "namespace of APP; default default")
    String namespace;
    @Option(names = "--mode", description = "off, test or deploy") String mode;
    @Option(names = "--weight",
        description = "canary weight n in percent, steps of 0.01; required for test and deploy")
    Double weight;
    @Option(names = "--gateway-mode", description = "a separate split for gateway traffic")
    String gatewayMode;
    @Option(names = "--gateway-weight",
        description = "the gateway's canary weight; required for test and deploy")
    Double gatewayWeight;
    @Option(names = "--gateway-follows-mesh",
        description = "drop the gateway's own split") boolean gatewayFollowsMesh;
    @Option(names = "--wait", description = "return once every connected proxy of every kind "
        + "has ACKed the routes carrying the new split; exit 1 at --timeout") boolean wait;
    @Option(names = "--timeout", defaultValue = "30s", converter = DurationConverter.class,
        description = "how long --wait waits; default ${DEFAULT-VALUE}") Duration timeout;
    @Option(names = {"-o", "--output"}, defaultValue = "text",
        description = "text or json (the app's state as the REST API serves it)")
    Output.Format output;
    @Mixin AdminOptions admin;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      int[] code = {0};
      int exit = Output.run(spec, () -> {
        AdminClient client = admin.client();
        String path = appPath(app, namespace);
        SetSplitRequest body = request();
        AppState state = client.put(path + "/split", body, AppState.newBuilder()).build();
        PrintWriter out = spec.commandLine().getOut();
        if (output == Output.Format.text) {
          Output.printApp(out, state);
        }
        if (wait) {
          // Progress goes where it does not mix with the JSON.
          PrintWriter progress = output == Output.Format.text ? out : spec.commandLine().getErr();
          state = awaitAcks(client, path, progress);
          code[0] = lagging(state).isEmpty() ? 0 : 1;
        }
        if (output == Output.Format.json) {
          out.println(Output.json(state));
        }
      });
      return exit != 0 ? exit : code[0];
    }

    /**
     * Polls the app's state until every connected proxy of every kind has ACKed the routes
     * version published now, or until the timeout; prints the counts whenever they change.
     * The newest state is compared, not the PUT's answer: its versions may still move as the
     * publisher settles.
     */
    private AppState awaitAcks(AdminClient client, String path, PrintWriter out)
        throws AdminClient.AdminError {
      long deadline = System.nanoTime() + timeout.toNanos();
      String shown = null;
      while (true) {
        AppState state = client.get(path, AppState.newBuilder()).build();
        String counts = counts(state);
        if (!counts.equals(shown)) {
          out.println("waiting for ACKs: " + counts);
          out.flush();
          shown = counts;
        }
        List<String> lagging = lagging(state);
        if (lagging.isEmpty()) {
          out.println("applied: every connected proxy ACKed the new routes");
          return state;
        }
        if (System.nanoTime() > deadline) {
          out.flush();
          spec.commandLine().getErr().println("steelyard: timed out after "
              + DurationConverter.describe(timeout) + " waiting for ACKs; lagging: "
              + String.join(", ", lagging));
          spec.commandLine().getErr().flush();
          return state;
        }
        try {
          Thread.sleep(200);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AdminClient.AdminError(0, "interrupted");
        }
      }
    }

    private static String counts(AppState state) {
      return state.getProgressList().stream().map(progress -> progress.getProxyKind() + " "
          + progress.getProxiesAcked() + "/" + progress.getProxiesConnected())
          .collect(Collectors.joining(", "));
    }

    /** "grpc 2 of 3 acked routes 1a2b..." for each kind whose proxies have not all ACKed. */
    private static List<String> lagging(AppState state) {
      return state.getProgressList().stream()
          .filter(progress -> progress.getProxiesAcked() < progress.getProxiesConnected())
          .map(progress -> progress.getProxyKind() + " " + progress.getProxiesAcked() + " of "
              + progress.getProxiesConnected() + " acked routes " + progress.getRoutesVersion())
          .toList();
    }

    private SetSplitRequest request() throws Output.BadArgument {
      if (mode == null && gatewayMode == null && !gatewayFollowsMesh) {
        throw new Output.BadArgument("give --mode (off, test or deploy), or --gateway-mode or "
            + "--gateway-follows-mesh to change only the gateway split");
      }
      SetSplitRequest.Builder request = SetSplitRequest.newBuilder()
          .setGatewayFollowsMesh(gatewayFollowsMesh);
      if (mode != null) {
        request.setMode(mode);
        requireWeight("--mode", mode, "--weight", weight);
        if (weight != null) {
          request.setCanaryWeight(weight);
        }
      } else if (weight != null) {
        throw new Output.BadArgument("--weight needs --mode");
      }
      if (gatewayMode != null) {
        requireWeight("--gateway-mode", gatewayMode, "--gateway-weight", gatewayWeight);
        Split.Builder gateway = Split.newBuilder().setMode(gatewayMode);
        if (gatewayWeight != null) {
          gateway.setCanaryWeight(gatewayWeight);
        }
        request.setGateway(gateway);
      } else if (gatewayWeight != null) {
        throw new Output.BadArgument("--gateway-weight needs --gateway-mode");
      }
      return request.build();
    }

    /** test and deploy need their weight; an absent one used to mean 0, all traffic to main. */
    private static void requireWeight(String modeOption, String mode, String weightOption,
        Double weight) throws Output.BadArgument {
      if (weight == null && (mode.equals("test") || mode.equals("deploy"))) {
        throw new Output.BadArgument(modeOption + " " + mode + " needs " + weightOption
            + " N (test: 0 <= N <= 100, deploy: 0 <= N <= 50)");
      }
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "Show the split.")
  static final class Get implements Callable<Integer> {
    @Parameters(paramLabel = "APP", description = "name or namespace/name") String app;
    @Option(names = {"-n", "--namespace"}, description = "namespace of APP; default default")
    String namespace;
    @Option(names = {"-o", "--output"}, defaultValue = "text",
        description = "text or json (the app's state as the REST API serves it)")
    Output.Format output;
    @Mixin AdminOptions admin;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      return Output.run(spec, () -> {
        AppState state = admin.client().get(appPath(app, namespace), AppState.newBuilder())
            .build();
        if (output == Output.Format.json) {
          spec.commandLine().getOut().println(Output.json(state));
        } else {
          Output.printApp(spec.commandLine().getOut(), state);
        }
      });
    }
  }
}
