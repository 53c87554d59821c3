package dev.steelyard.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.steelyard.admin.StrictJson;
import dev.steelyard.judge.CanaryJudge;
import dev.steelyard.judge.JudgeJson;
import dev.steelyard.judge.JudgeRequest;
import dev.steelyard.judge.JudgeRequestException;
import dev.steelyard.judge.JudgeRequests;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "judge", mixinStandardHelpOptions = true,
    description = {"Judge a canary against its baseline from a JSON or YAML file: "
        + "{config: {metrics, groupWeights, thresholds}, samples: {METRIC: {baseline: [..], "
        + "canary: [..]}}} (the body of POST /api/v1/judge).",
        "Judges locally by default; --remote sends the file to the admin API instead."})
final class JudgeCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "FILE", description = "the request, .json or .yaml")
  Path file;
  @Option(names = {"-o", "--output"}, defaultValue = "text",
      description = "text (a table) or json (the answer of POST /api/v1/judge)")
  Output.Format output;
  @Option(names = "--remote", description = "POST the file to the admin API (--admin)")
  boolean remote;
  @Mixin AdminOptions admin;
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final YAMLMapper YAML = YAMLMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  @Override
  public Integer call() {
    return Output.run(spec, () -> {
      JsonNode tree = read(file);
      JsonNode answer;
      if (remote) {
        answer = JSON.valueToTree(admin.client().call("POST", "api/v1/judge", tree));
      } else {
        JudgeRequest request;
        try {
          request = JudgeRequests.parse(tree);
        } catch (JudgeRequestException e) {
          throw new Output.BadArgument(file + ": " + e.getMessage());
        }
        if (request.window() != null) {
          throw new Output.BadArgument(file + ": window: fetching samples needs the server's "
              + "metric sources; use --remote");
        }
        answer = JudgeJson.render(CanaryJudge.judge(request.config(), request.samples()));
      }
      PrintWriter out = spec.commandLine().getOut();
      if (output == Output.Format.json) {
        try {
          out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(answer));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new IllegalStateException(e);
        }
      } else {
        printTable(out, answer);
      }
    });
  }

  /** JSON with the admin API's strict rules for .json, YAML (duplicate keys refused) else. */
  static JsonNode read(Path file) throws Output.BadArgument {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new Output.BadArgument(file + ": no such file");
    } catch (IOException e) {
      throw new Output.BadArgument(file + ": cannot read: " + e.getMessage());
    }
    if (file.toString().endsWith(".json")) {
      try {
        return StrictJson.object(text, "{\"config\": {...}, \"samples\": {...}}");
      } catch (RuntimeException e) {
        // StrictJson's 400 for the API; here the same reason on one line.
        throw new Output.BadArgument(file + ": " + e.getMessage());
      }
    }
    try {
      JsonNode tree = YAML.readTree(text);
      if (tree == null || !tree.isObject()) {
        throw new Output.BadArgument(file + ": expected a mapping with config and samples");
      }
      return tree;
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new Output.BadArgument(file + ": malformed YAML: " + e.getOriginalMessage());
    }
  }

  static void printTable(PrintWriter out, JsonNode result) {
    out.printf("%-16s %-12s %-8s %12s %12s %8s %9s  %s%n", "METRIC", "GROUP", "CLASS",
        "BASELINE MED", "CANARY MED", "RATIO", "P-VALUE", "INTERVAL (canary - baseline)");
    for (JsonNode metric : result.get("metrics")) {
      JsonNode mw = metric.get("mannWhitney");
      boolean tested = mw != null && !mw.isNull();
      out.printf(Locale.ROOT, "%-16s %-12s %-8s %12s %12s %8s %9s  %s%n",
          metric.get("name").asText(), metric.get("group").asText(),
          metric.get("classification").asText().toUpperCase(Locale.ROOT)
              + (metric.get("critical").asBoolean() ? "!" : ""),
          median(metric.get("baseline")), median(metric.get("canary")),
          number(metric.get("effectSizeRatio")), tested ? number(mw.get("pValue")) : "-",
          tested ? String.format(Locale.ROOT, "%s%% [%s, %s], estimate %s",
              number(mw.get("confidence"), 100), number(mw.get("lower")),
              number(mw.get("upper")), number(mw.get("estimate"))) : "-");
    }
    for (JsonNode metric : result.get("metrics")) {
      String removed = removed(metric.get("baseline"), "baseline")
          + removed(metric.get("canary"), "canary");
      out.printf("  %s: %s%s%n", metric.get("name").asText(), metric.get("reason").asText(),
          removed.isEmpty() ? "" : ";" + removed.substring(0, removed.length() - 1));
    }
    out.println();
    out.printf("%-16s %7s %7s  %s%n", "GROUP", "SCORE", "WEIGHT", "PASSED");
    for (JsonNode group : result.get("groups")) {
      out.printf(Locale.ROOT, "%-16s %7s %7s  %s%n", group.get("name").asText(),
          group.get("noData").asBoolean() ? "nodata" : number(group.get("score")),
          number(group.get("weight")), group.get("passed").asInt() + " of "
              + group.get("metrics").asInt());
    }
    out.println();
    JsonNode thresholds = result.get("thresholds");
    out.printf("score %s (pass %s, marginal %s): %s%n", number(result.get("score")),
        number(thresholds.get("pass")), number(thresholds.get("marginal")),
        result.get("outcome").asText().toUpperCase(Locale.ROOT));
    out.println(result.get("summary").asText());
  }

  private static String median(JsonNode side) {
    return side.get("count").asInt() == 0 ? "-" : number(side.get("median"));
  }

  private static String removed(JsonNode side, String name) {
    StringBuilder text = new StringBuilder();
    if (side.get("nanRemoved").asInt() > 0) {
      text.append(" ").append(name).append(": ").append(side.get("nanRemoved"))
          .append(" NaN removed;");
    }
    if (side.get("nanReplaced").asInt() > 0) {
      text.append(" ").append(name).append(": ").append(side.get("nanReplaced"))
          .append(" NaN counted as 0;");
    }
    if (side.get("outliersRemoved").asInt() > 0) {
      text.append(" ").append(name).append(": ").append(side.get("outliersRemoved"))
          .append(" outliers removed;");
    }
    return text.toString();
  }

  private static String number(JsonNode node) {
    return number(node, 1);
  }

  private static String number(JsonNode node, double scale) {
    if (node == null || !node.isNumber()) {
      return node == null ? "-" : node.asText();
    }
    double value = node.doubleValue() * scale;
    String text = String.format(Locale.ROOT, "%.4g", value);
    if (text.contains("e")) {
      return text;
    }
    return text.contains(".") ? text.replaceAll("0+$", "").replaceAll("\\.$", "") : text;
  }
}
