package dev.steelyard.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code steelyard judge FILE}, judging locally (no server). */
class JudgeCommandTest {

  private record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = SteelyardCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void theCommittedExamplePrintsItsTable() {
    Run run = run("judge", "examples/judge-latency.yaml");
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out())
        .containsPattern("latency-p50-ms +latency +PASS +21.75 +22.15 +1.013")
        .containsPattern("latency-p99-ms +latency +HIGH +90.5 +132 +1.453 +0.0001827 +98% "
            + "\\[34, 49\\], estimate 41")
        .contains("error-rate: no failing difference")
        .contains("baseline: 3 NaN counted as 0; canary: 3 NaN counted as 0")
        .containsPattern("latency +50 +60 +1 of 2")
        .containsPattern("errors +100 +40 +1 of 1")
        .contains("score 70 (pass 95, marginal 75): FAIL")
        .contains("FAIL: score 70 < marginal 75");
  }

  @Test
  void theReadmeShowsTheRealOutput() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    String command = "$ bin/steelyard judge examples/judge-latency.yaml\n";
    int start = readme.indexOf(command) + command.length();
    assertThat(start).isGreaterThan(command.length());
    String shown = readme.substring(start, readme.indexOf("```", start));
    assertThat(run("judge", "examples/judge-latency.yaml").out())
        .as("README.md's judge example; paste the new output").isEqualTo(shown);
  }

  @Test
  void jsonOutputIsTheApiAnswer() throws Exception {
    Run run = run("judge", "examples/judge-latency.yaml", "-o", "json");
    assertThat(run.code()).as(run.err()).isZero();
    JsonNode json = JsonMapper.builder().build().readTree(run.out());
    assertThat(json.get("outcome").asText()).isEqualTo("fail");
    assertThat(json.get("score").asDouble()).isEqualTo(70);
    JsonNode p99 = json.get("metrics").get(1);
    assertThat(p99.get("classification").asText()).isEqualTo("high");
    assertThat(p99.get("mannWhitney").get("lower").asDouble()).isEqualTo(34);
    assertThat(p99.get("mannWhitney").get("upper").asDouble()).isEqualTo(49);
  }

  @Test
  void badInputExitsWithTwoAndTheWhere(@TempDir Path dir) throws Exception {
    Path yaml = dir.resolve("bad.yaml");
    Files.writeString(yaml, "config:\n  metrics:\n    - {name: a, group: g, direction: up}\n");
    Run bad = run("judge", yaml.toString());
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err().strip()).isEqualTo("steelyard: " + yaml + ": config.metrics[0]"
        + ".direction: expected one of increase, decrease, either, got \"up\"");
    Path json = dir.resolve("dup.json");
    Files.writeString(json, "{\"config\": {}, \"config\": {}}");
    Run duplicate = run("judge", json.toString());
    assertThat(duplicate.code()).isEqualTo(2);
    assertThat(duplicate.err()).contains("Duplicate field 'config'");
    Run missing = run("judge", dir.resolve("none.yaml").toString());
    assertThat(missing.code()).isEqualTo(2);
    assertThat(missing.err()).contains("none.yaml: no such file");
  }
}
