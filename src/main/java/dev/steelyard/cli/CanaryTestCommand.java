package dev.steelyard.cli;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "canary-test", mixinStandardHelpOptions = true,
    description = "Canary tests run by the server: a canary of the new version gets n %% "
        + "(main the rest) until the weight is set to 0, the test is ended or its time is up; "
        + "then the canary is removed. `steelyard rollout status|history` shows it.",
    subcommands = {CanaryTestCommand.Start.class, CanaryTestCommand.Set.class,
        CanaryTestCommand.End.class})
final class CanaryTestCommand implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing: start, set or end");
  }

  @Command(name = "start", mixinStandardHelpOptions = true,
      description = "Create the canary, wait until it is ready, route n %% to it.")
  static final class Start implements Callable<Integer> {
    @Mixin RolloutCommand.Target target;
    @Parameters(index = "1", paramLabel = "VERSION", description = "the version to test")
    String version;
    @Option(names = "--weight", required = true, description = "percent to the canary")
    double weight;
    @Option(names = "--replicas", description = "canary replicas; default 1")
    Integer replicas;
    @Option(names = "--cap", description = "highest weight this test may take; default 50")
    Double cap;
    @Option(names = "--time-limit", converter = DurationConverter.class,
        description = "end the test by itself after this long (e.g. 30m)")
    Duration timeLimit;
    @Option(names = "--from-version", description = "the version main runs, where the server "
        + "cannot tell (file mode)")
    String fromVersion;
    @Mixin AdminOptions admin;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      return Output.run(spec, () -> {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("kind", "test");
        body.put("version", version);
        body.put("weight", weight);
        RolloutCommand.putIf(body, "canaryReplicas", replicas);
        RolloutCommand.putIf(body, "weightCap", cap);
        RolloutCommand.putIf(body, "timeLimit", timeLimit == null ? null : timeLimit.toString());
        RolloutCommand.putIf(body, "fromVersion", fromVersion);
        RolloutCommand.print(spec, admin.client().call("POST", target.path(), body));
      });
    }
  }

  @Command(name = "set", mixinStandardHelpOptions = true,
      description = "Change the test's weight (only the weights change; 0 ends the test).")
  static final class Set implements Callable<Integer> {
    @Mixin RolloutCommand.Target target;
    @Parameters(index = "1", paramLabel = "N", description = "percent to the canary")
    double weight;
    @Mixin AdminOptions admin;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      return Output.run(spec, () -> RolloutCommand.print(spec, admin.client().call("PUT",
          target.path() + "/weight", Map.of("weight", weight))));
    }
  }

  @Command(name = "end", mixinStandardHelpOptions = true,
      description = "End the test: 100 %% to main, then the canary is removed.")
  static final class End implements Callable<Integer> {
    @Mixin RolloutCommand.Target target;
    @Mixin AdminOptions admin;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      return Output.run(spec, () -> RolloutCommand.print(spec,
          admin.client().call("POST", target.path() + "/end", null)));
    }
  }
}
