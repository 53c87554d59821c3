package dev.steelyard.cli;

import dev.steelyard.admin.v1.AppState;
import dev.steelyard.admin.v1.SetSplitRequest;
import dev.steelyard.admin.v1.Split;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "split", mixinStandardHelpOptions = true,
    description = "Show or set an app's traffic split.",
    subcommands = {SplitCommand.Set.class, SplitCommand.Get.class})
final class SplitCommand implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing: set or get");
  }

  /** {@code name} or {@code namespace/name}. */
  static String appPath(String app, String namespace) {
    String full = app.contains("/") ? app : namespace + "/" + app;
    return "api/v1/apps/" + full;
  }

  @Command(name = "set", mixinStandardHelpOptions = true,
      description = "Set the split: off, test (main 100-n, canary n) or deploy "
          + "(main 100-2n, baseline n, canary n).")
  static final class Set implements Callable<Integer> {
    @Parameters(paramLabel = "APP", description = "name or namespace/name") String app;
    @Option(names = {"-n", "--namespace"}, defaultValue = "default") String namespace;
    @Option(names = "--mode", required = true, description = "off, test or deploy") String mode;
    @Option(names = "--weight", defaultValue = "0",
        description = "canary weight n in percent, steps of 0.01") double weight;
    @Option(names = "--gateway-mode", description = "a separate split for gateway traffic")
    String gatewayMode;
    @Option(names = "--gateway-weight") Double gatewayWeight;
    @Option(names = "--gateway-follows-mesh",
        description = "drop the gateway's own split") boolean gatewayFollowsMesh;
    @Mixin AdminOptions admin;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      SetSplitRequest.Builder request = SetSplitRequest.newBuilder()
          .setMode(mode)
          .setCanaryWeight(weight)
          .setGatewayFollowsMesh(gatewayFollowsMesh);
      if (gatewayWeight != null && gatewayMode == null) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "--gateway-weight needs --gateway-mode");
      }
      if (gatewayMode != null) {
        request.setGateway(Split.newBuilder().setMode(gatewayMode)
            .setCanaryWeight(gatewayWeight == null ? 0 : gatewayWeight));
      }
      return Output.run(spec, () -> Output.printApp(spec.commandLine().getOut(),
          admin.client().put(appPath(app, namespace) + "/split", request.build(),
              AppState.newBuilder()).build()));
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "Show the split.")
  static final class Get implements Callable<Integer> {
    @Parameters(paramLabel = "APP", description = "name or namespace/name") String app;
    @Option(names = {"-n", "--namespace"}, defaultValue = "default") String namespace;
    @Mixin AdminOptions admin;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      return Output.run(spec, () -> Output.printApp(spec.commandLine().getOut(),
          admin.client().get(appPath(app, namespace), AppState.newBuilder()).build()));
    }
  }
}
