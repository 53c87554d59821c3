package dev.steelyard.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rollout", mixinStandardHelpOptions = true,
    description = "Canary deploys run by the server: start one, watch it, approve its steps, "
        + "roll it back or abort it, read its history.",
    subcommands = {RolloutCommand.Start.class, RolloutCommand.Status.class,
        RolloutCommand.Approve.class, RolloutCommand.Rollback.class, RolloutCommand.Abort.class,
        RolloutCommand.History.class})
final class RolloutCommand implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "missing: start, status, approve, rollback, abort or history");
  }

  /** APP and -n, shared by every subcommand. */
  static final class Target {
    @Parameters(index = "0", paramLabel = "APP", description = "name or namespace/name")
    String app;
    @Option(names = {"-n", "--namespace"}, description = "namespace of APP; default default")
    String namespace;

    String path() throws Output.BadArgument {
      return SplitCommand.appPath(app, namespace) + "/rollout";
    }
  }

  @Command(name = "start", mixinStandardHelpOptions = true,
      description = "Start a canary deploy of VERSION: baseline and canary sized from main, "
          + "the deploy split walked step by step, each step judged, then main promoted.")
  static final class Start implements Callable<Integer> {
    @Mixin Target target;
    @Parameters(index = "1", paramLabel = "VERSION",
        description = "the new version (an image, a tag, or a version label)")
    String version;
    @Option(names = "--steps", split = ",", paramLabel = "N",
        description = "canary weights per step, increasing, at most 50; default 1,10,25,50")
    List<Double> steps;
    @Option(names = "--pause", converter = DurationConverter.class,
        description = "judge each step by a timed pause (e.g. 2m) instead of manual approval")
    Duration pause;
    @Option(names = "--automatic", converter = DurationConverter.class, paramLabel = "WINDOW",
        description = "judge each step automatically over an analysis window (e.g. 5m): the "
            + "canary's errors against the baseline's from the proxies' load reports, and the "
            + "metrics of --analysis")
    Duration automatic;
    @Option(names = "--analysis", paramLabel = "FILE",
        description = "with --automatic: the analysis (errorAlpha, minRequests, metrics, "
            + "interval, maxWait, onNoData, onMarginal, minSamples) as JSON or YAML")
    java.nio.file.Path analysis;
    @Option(names = "--sizing", description = "helm (default: baseline and canary R*n/100+1, "
        + "main R*(100-2n)/100+1 from step 2) or keep-main (main stays at R)")
    String sizing;
    @Option(names = "--from-version", description = "the version main runs, where the server "
        + "cannot tell (file mode)")
    String fromVersion;
    @Option(names = "--ack-timeout", converter = DurationConverter.class,
        description = "how long a step waits for every proxy's ACK before it pauses; default 30s")
    Duration ackTimeout;
    @Option(names = "--post-promotion-window", converter = DurationConverter.class,
        description = "how long rollback stays one call away after promotion; default 1h")
    Duration window;
    @Mixin AdminOptions admin;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      return Output.run(spec, () -> {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("kind", "deploy");
        body.put("version", version);
        putIf(body, "fromVersion", fromVersion);
        putIf(body, "steps", steps);
        if (pause != null && automatic != null) {
          throw new Output.BadArgument("--pause and --automatic are two judgments; pick one");
        }
        if (pause != null) {
          body.put("judgment", Map.of("type", "pause", "pause", pause.toString()));
        }
        if (analysis != null && automatic == null) {
          throw new Output.BadArgument("--analysis needs --automatic WINDOW");
        }
        if (automatic != null) {
          Map<String, Object> judgment = new LinkedHashMap<>();
          judgment.put("type", "automatic");
          judgment.put("window", automatic.toString());
          if (analysis != null) {
            judgment.put("analysis", readAnalysis(analysis));
          }
          body.put("judgment", judgment);
        }
        putIf(body, "sizing", sizing);
        putIf(body, "ackTimeout", ackTimeout == null ? null : ackTimeout.toString());
        putIf(body, "postPromotionWindow", window == null ? null : window.toString());
        print(spec, admin.client().call("POST", target.path(), body));
      });
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Show the app's flow (the running one, else the last).")
  static final class Status implements Callable<Integer> {
    @Mixin Target target;
    @Option(names = {"-w", "--watch"},
        description = "show progress, one line per change, until the flow ends or is "
            + "promoted; then the whole status")
    boolean watch;
    @Option(names = "--interval", defaultValue = "1s", converter = DurationConverter.class,
        description = "how often --watch asks; default ${DEFAULT-VALUE}")
    Duration interval;
    @Mixin AdminOptions admin;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      return Output.run(spec, () -> {
        AdminClient client = admin.client();
        Map<String, Object> flow = client.call("GET", target.path(), null);
        if (!watch) {
          print(spec, flow);
          return;
        }
        PrintWriter out = spec.commandLine().getOut();
        String shown = "";
        // Promoted is where a deploy rests (rollback stays open for its window): stop there too.
        while (flow.get("endedAt") == null && !"promoted".equals(flow.get("phase"))) {
          String line = oneLine(flow);
          if (!line.equals(shown)) {
            out.println(LocalTime.now(ZoneOffset.UTC).withNano(0) + " " + line);
            out.flush();
            shown = line;
          }
          try {
            Thread.sleep(interval.toMillis());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
          flow = client.call("GET", target.path(), null);
        }
        out.println(LocalTime.now(ZoneOffset.UTC).withNano(0) + " " + oneLine(flow));
        print(spec, flow);
      });
    }
  }

  @Command(name = "approve", mixinStandardHelpOptions = true,
      description = "Approve the step being judged (manual judgment).")
  static final class Approve implements Callable<Integer> {
    @Mixin Target target;
    @Mixin AdminOptions admin;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      return Output.run(spec, () -> print(spec,
          admin.client().call("POST", target.path() + "/approve", null)));
    }
  }

  @Command(name = "rollback", mixinStandardHelpOptions = true,
      description = "Roll back to the old version, from any step or after promotion; safe to "
          + "repeat. The canary's share goes to the old version first, main takes 100 %% once "
          + "restored.")
  static final class Rollback implements Callable<Integer> {
    @Mixin Target target;
    @Mixin AdminOptions admin;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      return Output.run(spec, () -> print(spec,
          admin.client().call("POST", target.path() + "/rollback", null)));
    }
  }

  @Command(name = "abort", mixinStandardHelpOptions = true,
      description = "Stop where the flow is: 100 %% to main, workloads left as they are.")
  static final class Abort implements Callable<Integer> {
    @Mixin Target target;
    @Mixin AdminOptions admin;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      return Output.run(spec, () -> print(spec,
          admin.client().call("POST", target.path() + "/abort", null)));
    }
  }

  @Command(name = "history", mixinStandardHelpOptions = true,
      description = "Every transition, weight change, scaling and judgment of the app's flows.")
  static final class History implements Callable<Integer> {
    @Mixin Target target;
    @Mixin AdminOptions admin;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    @SuppressWarnings("unchecked")
    public Integer call() {
      return Output.run(spec, () -> {
        Map<String, Object> answer = admin.client().call("GET", target.path() + "/history",
            null);
        PrintWriter out = spec.commandLine().getOut();
        for (Map<String, Object> entry : (List<Map<String, Object>>) answer.get("history")) {
          String acks = String.valueOf(entry.get("acks"));
          out.printf("%s  %s  %-12s %s  [%s]%s%n", entry.get("at"), entry.get("flowId"),
              entry.get("event"), entry.get("detail"), entry.get("by"),
              acks.isEmpty() ? "" : "  acks " + acks);
          if (entry.get("evidence") instanceof Map<?, ?> evidence) {
            printEvidence(out, (Map<String, Object>) evidence);
          }
        }
      });
    }
  }

  /** An analysis file, JSON or YAML (YAML is a superset of JSON): sent as the server reads it. */
  static Object readAnalysis(java.nio.file.Path file) throws Output.BadArgument {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper(
          new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readValue(file.toFile(),
          Object.class);
    } catch (java.io.IOException e) {
      throw new Output.BadArgument("cannot read the analysis " + file + ": " + e.getMessage());
    }
  }

  static void putIf(Map<String, Object> body, String key, Object value) {
    if (value != null) {
      body.put(key, value);
    }
  }

  /** "step-judging  step 2/4  set 80/10/10  grpc 1/1  waiting for ..." */
  @SuppressWarnings("unchecked")
  static String oneLine(Map<String, Object> flow) {
    Map<String, Object> weights = (Map<String, Object>) flow.get("weights");
    String step = "deploy".equals(flow.get("kind"))
        ? "step " + flow.get("step") + "/" + ((List<?>) flow.get("steps")).size() + "  "
        : "weight " + number(flow.get("weight")) + "  ";
    String waiting = String.valueOf(flow.getOrDefault("waitingFor", ""));
    return flow.get("phase") + "  " + step + "set " + triple((Map<String, Object>) weights
        .get("set")) + "  acks " + weights.get("acks")
        + (waiting.isEmpty() ? "" : "  waiting for " + waiting);
  }

  @SuppressWarnings("unchecked")
  static void print(CommandLine.Model.CommandSpec spec, Map<String, Object> flow) {
    PrintWriter out = spec.commandLine().getOut();
    Map<String, Object> weights = (Map<String, Object>) flow.get("weights");
    out.printf("%s  %s %s -> %s  phase %s%s%n", flow.get("app"), flow.get("kind"),
        flow.get("fromVersion"), flow.get("version"), flow.get("phase"),
        "deploy".equals(flow.get("kind"))
            ? "  step " + flow.get("step") + " of " + ((List<?>) flow.get("steps")).size()
                + " (steps " + String.join(", ", ((List<?>) flow.get("steps")).stream()
                    .map(RolloutCommand::number).toList()) + " %)"
            : "  weight " + number(flow.get("weight")) + " (cap " + number(flow.get("weightCap"))
                + ")");
    Object sent = weights.get("sent");
    out.printf("  weights (main/baseline/canary): set %s, sent %s, acks %s%s%n",
        triple((Map<String, Object>) weights.get("set")),
        sent == null ? "-" : triple((Map<String, Object>) sent), weights.get("acks"),
        Boolean.TRUE.equals(weights.get("applied")) ? " (applied)" : "");
    out.printf("  %-9s %-14s %s%n", "ROLE", "DESIRED", "RUNNING (READY)");
    Map<String, Object> workloads = (Map<String, Object>) flow.get("workloads");
    for (Map.Entry<String, Object> entry : workloads.entrySet()) {
      Map<String, Object> role = (Map<String, Object>) entry.getValue();
      String desired = role.get("desiredReplicas") == null ? "-"
          : role.get("desiredReplicas") + " x " + role.get("desiredVersion");
      String version = String.valueOf(role.get("version"));
      out.printf("  %-9s %-14s %s (%s ready)%s%n", entry.getKey(), desired, role.get("replicas"),
          role.get("readyReplicas"), version.isEmpty() ? "" : " at " + version);
    }
    String waiting = String.valueOf(flow.getOrDefault("waitingFor", ""));
    if (!waiting.isEmpty()) {
      out.println("  waiting for: " + waiting);
    }
    List<String> verdicts = new ArrayList<>((List<String>) flow.getOrDefault("verdicts",
        List.of()));
    for (String verdict : verdicts) {
      out.println("  verdict: " + verdict);
    }
    if (flow.get("lastEvidence") instanceof Map<?, ?> evidence) {
      printEvidence(out, (Map<String, Object>) evidence);
    }
    String error = String.valueOf(flow.getOrDefault("driverError", ""));
    if (!error.isEmpty()) {
      out.println("  workload driver: " + error);
    }
  }

  private static String triple(Map<String, Object> weights) {
    return number(weights.get("main")) + "/" + number(weights.get("baseline")) + "/"
        + number(weights.get("canary"));
  }

  /** A probability as people read one: three significant digits (0.000343, not 0). */
  static String significant(Object value) {
    return value instanceof Number number
        ? String.format(Locale.ROOT, "%.3g", number.doubleValue()) : String.valueOf(value);
  }

  static String number(Object value) {
    if (!(value instanceof Number number)) {
      return String.valueOf(value);
    }
    return String.format(Locale.ROOT, "%.2f", number.doubleValue()).replaceAll("\\.?0+$", "");
  }

  /** An automatic verdict's evidence, indented under its line: window, counts, metrics. */
  @SuppressWarnings("unchecked")
  static void printEvidence(PrintWriter out, Map<String, Object> evidence) {
    out.printf("      window %s .. %s (routes ACKed %s)%n", evidence.get("from"),
        evidence.get("to"), evidence.get("acked"));
    if (evidence.get("errors") instanceof Map<?, ?> errors) {
      out.printf("      errors: canary %s/%s, baseline %s/%s, always-valid p %s (alpha %s)%n",
          errors.get("canaryErrors"), errors.get("canaryRequests"), errors.get("baselineErrors"),
          errors.get("baselineRequests"), significant(errors.get("alwaysValidP")),
          number(errors.get("alpha")));
    }
    if (evidence.get("metrics") instanceof Map<?, ?> metrics) {
      for (Map<String, Object> metric : (List<Map<String, Object>>) metrics.get("metrics")) {
        Map<String, Object> baseline = (Map<String, Object>) metric.get("baseline");
        Map<String, Object> canary = (Map<String, Object>) metric.get("canary");
        out.printf("      metric %s: %s, median baseline %s canary %s (%s samples)%n",
            metric.get("name"), metric.get("classification"),
            baseline == null ? "-" : number(baseline.get("median")),
            canary == null ? "-" : number(canary.get("median")),
            canary == null ? "-" : canary.get("count"));
      }
      out.printf("      score %s: %s%n", number(metrics.get("score")), metrics.get("outcome"));
    }
    List<?> reporters = (List<?>) evidence.getOrDefault("reporters", List.of());
    if (!reporters.isEmpty()) {
      out.println("      reported by " + String.join(", ", reporters.stream()
          .map(String::valueOf).toList()));
    }
  }
}
