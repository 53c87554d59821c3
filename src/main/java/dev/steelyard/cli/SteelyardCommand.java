package dev.steelyard.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The one executable entry:
 * {@code steelyard serve|split|status|rollout|canary-test|judge|probe|bootstrap}.
 */
@Command(
    name = "steelyard",
    mixinStandardHelpOptions = true,
    version = "steelyard " + dev.steelyard.server.SteelyardServer.VERSION,
    description = "Envoy xDS control plane for canary traffic splits.",
    subcommands = {
        ServeCommand.class,
        SplitCommand.class,
        StatusCommand.class,
        RolloutCommand.class,
        CanaryTestCommand.class,
        JudgeCommand.class,
        ProbeCommand.class,
        BootstrapCommand.class,
        CommandLine.HelpCommand.class
    })
public final class SteelyardCommand implements Runnable {

  /** Exit code for bad input, as picocli uses for usage errors. */
  static final int BAD_INPUT = 2;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing a command");
  }

  public static CommandLine commandLine() {
    return new CommandLine(new SteelyardCommand());
  }

  public static void main(String[] args) {
    // Before any HTTP client exists: probe --via gateway|sidecar sets Host (demo.HttpProbe).
    System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    System.exit(commandLine().execute(args));
  }
}
