package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.split.FileSplitStore;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The admin REST API over a real socket: good calls, bad calls, and the token. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminApiTest {

  private static final String TOKEN = "s3cret-token";
  private static final String SPLIT = "/api/v1/apps/default/hello-app/split";
  private TestMesh mesh;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    mesh = new TestMesh(dir, new int[] {1, 0, 1}, Optional.of(TOKEN));
    assertThat(mesh.putSplit("{\"mode\":\"test\",\"canaryWeight\":5}").statusCode())
        .isEqualTo(200);
  }

  @AfterAll
  void stop() {
    mesh.close();
  }

  @Test
  void appStateShowsSubsetsSplitsAndEffectiveWeights() throws Exception {
    HttpResponse<String> response = mesh.get("/api/v1/apps/default/hello-app");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(response.body())
        .contains("\"meshSplit\": {\n    \"mode\": \"test\",\n    \"canaryWeight\": 5.0")
        .contains("\"gatewayFollowsMesh\": true")
        .contains("\"cluster\": \"default/hello-app/canary\"")
        .contains("\"effectiveMeshWeight\": 95.0")
        .contains("\"meshHosts\": [\"hello-app\", \"hello-app:8080\"");
    assertThat(mesh.get("/api/v1/apps").body()).contains("\"name\": \"hello-app\"");
  }

  @Test
  void shareOfASubsetWithoutEndpointsGoesToMainAndTheStateSaysSo() throws Exception {
    HttpResponse<String> response = put(
        "{\"mode\":\"deploy\",\"canaryWeight\":10,\"gateway\":{\"mode\":\"test\",\"canaryWeight\":1}}");
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.body())
        .contains("mesh: baseline has no ready endpoints; its 10.0 % goes to main")
        .contains("\"gatewayFollowsMesh\": false")
        .contains("\"meshWeight\": 80.0")
        .contains("\"effectiveMeshWeight\": 90.0");
    // Restore the split the other tests expect.
    assertThat(put("{\"mode\":\"test\",\"canaryWeight\":5,\"gatewayFollowsMesh\":true}")
        .statusCode()).isEqualTo(200);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "weight above 100 in test | {\"mode\":\"test\",\"canaryWeight\":101} | out of range for mode test: 0 <= n <= 100",
      "weight above 50 in deploy | {\"mode\":\"deploy\",\"canaryWeight\":50.01} | out of range for mode deploy: 0 <= n <= 50",
      "negative weight | {\"mode\":\"test\",\"canaryWeight\":-1} | is negative",
      "finer than 0.01 | {\"mode\":\"test\",\"canaryWeight\":10.005} | finer than 0.01 %",
      "unknown mode | {\"mode\":\"blue-green\",\"canaryWeight\":10} | unknown mode 'blue-green': expected off, test or deploy (or rollback: main 100-n, baseline n)",
      "missing mode | {\"canaryWeight\":10} | mode is required",
      "off with a weight | {\"mode\":\"off\",\"canaryWeight\":3} | mode off takes no canaryWeight",
      "malformed JSON | {\"mode\":\"test\", | malformed request",
      "unknown field | {\"mode\":\"test\",\"canaryWeigth\":10} | malformed request",
      "weight as text | {\"mode\":\"test\",\"canaryWeight\":\"ten\"} | malformed request",
      "bad gateway split | {\"mode\":\"test\",\"canaryWeight\":1,\"gateway\":{\"mode\":\"deploy\",\"canaryWeight\":60}} | out of range for mode deploy",
      "gateway and follows | {\"mode\":\"test\",\"canaryWeight\":1,\"gateway\":{\"mode\":\"off\"},\"gatewayFollowsMesh\":true} | not both",
      "test without weight | {\"mode\":\"test\"} | mode test needs canaryWeight: 0 <= n <= 100",
      "deploy without weight | {\"mode\":\"deploy\"} | mode deploy needs canaryWeight: 0 <= n <= 50",
      "gateway without weight | {\"mode\":\"test\",\"canaryWeight\":1,\"gateway\":{\"mode\":\"deploy\"}} | gateway: mode deploy needs canaryWeight",
      "gateway alone without weight | {\"gateway\":{\"mode\":\"test\"}} | gateway: mode test needs canaryWeight",
      "nothing to set | {} | mode is required",
      "duplicate key | {\"mode\":\"test\",\"canaryWeight\":7,\"canaryWeight\":5} | malformed request: Duplicate field 'canaryWeight'",
      "duplicate key in gateway | {\"mode\":\"off\",\"gateway\":{\"mode\":\"off\",\"mode\":\"test\"}} | malformed request: Duplicate field 'mode'",
      "a second object | {\"mode\":\"test\",\"canaryWeight\":5} {\"mode\":\"test\",\"canaryWeight\":7} | malformed request: Trailing token",
      "trailing garbage | {\"mode\":\"test\",\"canaryWeight\":5} x | malformed request",
      "single quotes | {'mode':'test','canaryWeight':7} | malformed request",
      "unquoted names | {mode:\"test\",canaryWeight:7} | malformed request",
      "a trailing comma | {\"mode\":\"test\",\"canaryWeight\":7,} | malformed request",
      "a comment | {\"mode\":\"test\", /* hi */ \"canaryWeight\":7} | malformed request",
      "NaN | {\"mode\":\"test\",\"canaryWeight\":NaN} | malformed request",
      "NaN as text | {\"mode\":\"test\",\"canaryWeight\":\"NaN\"} | canaryWeight must be a JSON number",
      "a number as text | {\"mode\":\"test\",\"canaryWeight\":\"7\"} | canaryWeight must be a JSON number",
      "not an object | [{\"mode\":\"test\",\"canaryWeight\":7}] | malformed request: expected one JSON object",
      "rounds to 5 as a double | {\"mode\":\"test\",\"canaryWeight\":4.999999999999999999999} | canaryWeight 4.999999999999999999999 is finer than 0.01 %",
      "rounds to 5 under its proto name | {\"mode\":\"test\",\"canary_weight\":4.999999999999999999999} | is finer than 0.01 %",
      "finer in exponent form | {\"mode\":\"test\",\"canaryWeight\":5001e-3} | canaryWeight 5.001 is finer than 0.01 %",
      "gateway rounds to 5 | {\"gateway\":{\"mode\":\"test\",\"canaryWeight\":5.0000000000000000001}} | gateway: canaryWeight 5.0000000000000000001 is finer than 0.01 %",
      "tiny exponent | {\"mode\":\"test\",\"canaryWeight\":1e-999999999} | is finer than 0.01 %",
  })
  void badInputIsRejectedAndChangesNothing(String name, String body, String message)
      throws Exception {
    String stateBefore = mesh.get("/api/v1/apps/default/hello-app").body();
    String fileBefore = Files.readString(mesh.dataDir.resolve(FileSplitStore.FILE_NAME));

    HttpResponse<String> response = put(body);

    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    assertThat(response.body()).startsWith("{\"error\":").contains(message);
    assertThat(mesh.get("/api/v1/apps/default/hello-app").body()).isEqualTo(stateBefore);
    assertThat(Files.readString(mesh.dataDir.resolve(FileSplitStore.FILE_NAME)))
        .isEqualTo(fileBefore);
  }

  @Test
  void theGatewaySplitChangesAloneWithoutRestatingTheMeshOne() throws Exception {
    HttpResponse<String> gatewayOnly = put("{\"gateway\":{\"mode\":\"deploy\",\"canaryWeight\":5}}");
    assertThat(gatewayOnly.statusCode()).as(gatewayOnly.body()).isEqualTo(200);
    assertThat(gatewayOnly.body())
        .contains("\"meshSplit\": {\n    \"mode\": \"test\",\n    \"canaryWeight\": 5.0")
        .contains("\"gatewaySplit\": {\n    \"mode\": \"deploy\",\n    \"canaryWeight\": 5.0")
        .contains("\"gatewayFollowsMesh\": false");

    HttpResponse<String> follow = put("{\"gatewayFollowsMesh\":true}");
    assertThat(follow.statusCode()).as(follow.body()).isEqualTo(200);
    assertThat(follow.body())
        .contains("\"meshSplit\": {\n    \"mode\": \"test\",\n    \"canaryWeight\": 5.0")
        .contains("\"gatewayFollowsMesh\": true");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "exponent form | {\"mode\":\"test\",\"canaryWeight\":525e-2} | 5.25",
      "trailing zeros | {\"mode\":\"test\",\"canaryWeight\":5.2500000000000000000000} | 5.25",
      "proto field name | {\"mode\":\"test\",\"canary_weight\":5.25} | 5.25",
  })
  void exactWeightsInAnyNumberFormAreTaken(String name, String body, String weight)
      throws Exception {
    HttpResponse<String> response = put(body);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    assertThat(response.body()).contains("\"canaryWeight\": " + weight);
    assertThat(put("{\"mode\":\"test\",\"canaryWeight\":5}").statusCode()).isEqualTo(200);
  }

  @Test
  void emptyBodyIsRejected() throws Exception {
    HttpResponse<String> response = put("");
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body()).contains("request body is empty");
  }

  @Test
  void unknownAppIs404() throws Exception {
    HttpResponse<String> put = mesh.put("/api/v1/apps/default/nope/split",
        "{\"mode\":\"test\",\"canaryWeight\":1}", Optional.of(TOKEN));
    assertThat(put.statusCode()).isEqualTo(404);
    assertThat(put.body()).contains("unknown app default/nope");
    assertThat(mesh.get("/api/v1/apps/other/hello-app").statusCode()).isEqualTo(404);
    assertThat(mesh.get("/api/v1/nothing-here").statusCode()).isEqualTo(404);
  }

  @Test
  void changesNeedTheToken() throws Exception {
    double failuresBefore = metric("steelyard_admin_auth_failures_total");
    HttpResponse<String> none = mesh.put(SPLIT, "{\"mode\":\"test\",\"canaryWeight\":7}",
        Optional.empty());
    HttpResponse<String> wrong = mesh.put(SPLIT, "{\"mode\":\"test\",\"canaryWeight\":7}",
        Optional.of("guess"));
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(wrong.body()).contains("Authorization: Bearer");
    assertThat(mesh.get("/api/v1/apps/default/hello-app").body())
        .contains("\"canaryWeight\": 5.0");
    assertThat(metric("steelyard_admin_auth_failures_total")).isEqualTo(failuresBefore + 2);
  }

  private double metric(String name) throws Exception {
    return mesh.get("/metrics").body().lines()
        .filter(line -> line.startsWith(name + " "))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.indexOf(' ') + 1)))
        .findFirst().orElseThrow(() -> new AssertionError("no metric " + name));
  }

  @Test
  void theBearerSchemeIsCaseInsensitive() throws Exception {
    for (String scheme : new String[] {"bearer", "BEARER", "Bearer"}) {
      HttpResponse<String> response = putAuthorized(scheme + " " + TOKEN);
      assertThat(response.statusCode()).as(scheme + ": " + response.body()).isEqualTo(200);
    }
    assertThat(putAuthorized("Basic " + TOKEN).statusCode()).isEqualTo(401);
    assertThat(putAuthorized("Bearer").statusCode()).isEqualTo(401);
  }

  private HttpResponse<String> putAuthorized(String authorization) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(mesh.admin() + SPLIT))
            .header("Authorization", authorization)
            .PUT(HttpRequest.BodyPublishers.ofString("{\"mode\":\"test\",\"canaryWeight\":5}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
      "POST, " + SPLIT + ", PUT",
      "DELETE, " + SPLIT + ", PUT",
      "GET, " + SPLIT + ", PUT",
      "PUT, /api/v1/apps, 'GET, HEAD'",
      "DELETE, /api/v1/apps/default/hello-app, 'GET, HEAD'",
      "POST, /healthz, 'GET, HEAD'",
  })
  void aWrongMethodIs405WithAllow(String method, String path, String allow) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(mesh.admin() + path))
            .method(method, HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(405);
    assertThat(response.headers().firstValue("Allow")).hasValue(allow);
    assertThat(response.body()).startsWith("{\"error\":")
        .contains("method " + method + " is not allowed on " + path);
  }

  @Test
  void headIsGetWithoutABody() throws Exception {
    for (String path : new String[] {"/healthz", "/readyz", "/api/v1/apps/default/hello-app"}) {
      HttpResponse<String> response = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(mesh.admin() + path))
              .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(path).isEqualTo(200);
      assertThat(response.body()).as(path).isEmpty();
    }
  }

  @Test
  void healthReadinessMetricsAndStatus() throws Exception {
    assertThat(mesh.get("/healthz").statusCode()).isEqualTo(200);
    assertThat(mesh.get("/readyz").body()).contains("ready");
    HttpResponse<String> metrics = mesh.get("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("steelyard_snapshot_build_seconds_count")
        .contains("steelyard_xds_nacks_total");
    assertThat(mesh.get("/api/v1/status").body()).contains("\"authRequired\": true")
        .contains("\"grpc/routes\":");
  }

  private HttpResponse<String> put(String body) throws Exception {
    return mesh.put(SPLIT, body, Optional.of(TOKEN));
  }
}
