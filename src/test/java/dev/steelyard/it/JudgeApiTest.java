package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.steelyard.cli.SteelyardCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** POST /api/v1/judge over a real socket, on a server that has an admin token. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JudgeApiTest {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private final HttpClient http = HttpClient.newHttpClient();
  private TestMesh mesh;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    mesh = new TestMesh(dir, new int[] {1, 0, 0}, Optional.of("s3cret"));
  }

  @AfterAll
  void stop() {
    mesh.close();
  }

  private HttpResponse<String> post(String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(mesh.admin() + "/api/v1/judge"))
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Kayenta's ClassifierSuite "Mean Ratio Effect Size: High" samples, through the API. */
  private static final String KAYENTA_HIGH = """
      {"config": {"metrics": [{"name": "m", "group": "g", "direction": "either",
        "confidence": 0.95, "tolerance": 0.1,
        "effectSize": {"allowedIncrease": 1.2, "allowedDecrease": 0.8}}]},
       "samples": {"m": {"baseline": [1.0, 2.2, 1.1, 2.5, 3.0],
                         "canary": [20.0, 22.0, 21.0, 25.0, 30.0, "NaN"]}}}""";

  @Test
  void judgesWithoutATokenAndAnswersEveryStatistic() throws Exception {
    HttpResponse<String> response = post(KAYENTA_HIGH);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    JsonNode json = JSON.readTree(response.body());
    assertThat(json.get("outcome").asText()).isEqualTo("fail");
    assertThat(json.get("score").asDouble()).isZero();
    JsonNode metric = json.get("metrics").get(0);
    assertThat(metric.get("classification").asText()).isEqualTo("high");
    assertThat(metric.get("canary").get("nanRemoved").asInt()).isEqualTo(1);
    // The 25 differences canary - baseline, sorted: 17, 17.5, 17.8, 18, 18.5, 18.8, 18.9, 19,
    // 19, 19.5, 19.8, 19.9, 20, ...: the estimate is the 13th, 20.
    assertThat(metric.get("mannWhitney").get("estimate").asDouble()).isEqualTo(20);
    assertThat(metric.get("effectSizeRatio").asDouble()).isCloseTo(23.6 / 1.96,
        org.assertj.core.api.Assertions.within(1e-12));
  }

  @Test
  void badInputIs400WithThePath() throws Exception {
    HttpResponse<String> response = post("""
        {"config": {"metrics": [{"name": "m", "group": "g", "direction": "sideways"}]}}""");
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(response.body()).get("error").asText()).isEqualTo(
        "malformed request: config.metrics[0].direction: expected one of increase, decrease, "
            + "either, got \"sideways\"");
    HttpResponse<String> duplicate = post("{\"config\": {}, \"config\": {}}");
    assertThat(duplicate.statusCode()).isEqualTo(400);
    assertThat(duplicate.body()).contains("Duplicate field 'config'");
    assertThat(post("").statusCode()).isEqualTo(400);
  }

  @Test
  void aWindowIsCheckedWhereItIsWrongAndGetIsNotAllowed() throws Exception {
    HttpResponse<String> noApp = post("""
        {"config": {"metrics": [{"name": "m", "group": "g", "direction": "increase",
          "query": {"source": "load", "measure": "error_rate"}}]},
         "window": {"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T10:10:00Z"}}""");
    assertThat(noApp.statusCode()).isEqualTo(400);
    assertThat(noApp.body()).contains("window.app: expected a string");
    HttpResponse<String> badMeasure = post("""
        {"config": {"metrics": [{"name": "m", "group": "g", "direction": "increase",
          "query": {"source": "load", "measure": "error-rate"}}]},
         "window": {"app": "default/hello-app", "last": "PT10M"}}""");
    assertThat(badMeasure.statusCode()).isEqualTo(400);
    assertThat(badMeasure.body()).contains("config.metrics[0].query: metric m: query.measure "
        + "must be error_rate or requests");
    HttpResponse<String> noPrometheus = post("""
        {"config": {"metrics": [{"name": "m", "group": "g", "direction": "increase",
          "query": {"source": "prometheus", "template": "up"}}]},
         "window": {"app": "default/hello-app", "last": "PT10M"}}""");
    assertThat(noPrometheus.statusCode()).isEqualTo(502);
    assertThat(noPrometheus.body()).contains("no --prometheus URL");
    // No proxy reported load here: the window holds no samples, and that is NoData.
    HttpResponse<String> empty = post("""
        {"config": {"metrics": [{"name": "m", "group": "g", "direction": "increase",
          "query": {"source": "load", "measure": "error_rate"}}]},
         "window": {"app": "default/hello-app", "last": "PT10M"}}""");
    assertThat(empty.statusCode()).as(empty.body()).isEqualTo(200);
    assertThat(JSON.readTree(empty.body()).get("outcome").asText()).isEqualTo("nodata");
    HttpResponse<String> get = mesh.get("/api/v1/judge");
    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(get.headers().firstValue("Allow")).hasValue("POST");
  }

  @Test
  void theCliCanJudgeOnTheServer(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("high.json");
    Files.writeString(file, KAYENTA_HIGH);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = SteelyardCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute("judge", file.toString(), "--remote", "--admin", mesh.admin());
    assertThat(code).as(err.toString()).isZero();
    assertThat(out.toString()).containsPattern("m +g +HIGH +2.2 +22")
        .contains("score 0 (pass 95, marginal 75): FAIL");
  }
}
