package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The console's files on the admin port, over HTTP without a browser: what is served where,
 * with which headers, and that the API, the probes and the metrics keep their paths.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConsoleRoutesTest {

  private TestMesh mesh;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    mesh = new TestMesh(dir, new int[] {1, 0, 0}, Optional.of("routes-test-token"));
  }

  @AfterAll
  void stop() {
    mesh.close();
  }

  private HttpResponse<String> send(String method, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(mesh.admin() + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @ParameterizedTest
  @CsvSource({
      "/,                    text/html,       <title>Steelyard console</title>",
      "/console/console.js,  text/javascript, 'use strict';",
      "/console/console.css, text/css,        --canary:",
  })
  void theConsoleIsServedFromTheJarWithItsContentTypeAndNoLongCaching(String path,
      String type, String content) throws Exception {
    HttpResponse<String> response = send("GET", path);
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("content-type").orElseThrow()).startsWith(type);
    assertThat(response.body()).contains(content);
    assertThat(response.headers().firstValue("cache-control")).hasValue("no-cache");
    assertThat(response.headers().firstValue("x-content-type-options")).hasValue("nosniff");
    assertThat(response.headers().firstValue("content-security-policy").orElseThrow())
        .contains("default-src 'none'", "script-src 'self'", "connect-src 'self'");
  }

  @Test
  void everyFileThePageNamesIsServedAndNothingComesFromElsewhere() throws Exception {
    String index = send("GET", "/").body();
    List<String> files = Pattern.compile("(?:src|href)=\"(/console/[^\"]+)\"").matcher(index)
        .results().map(match -> match.group(1)).toList();
    assertThat(files).contains("/console/core.js", "/console/console.js",
        "/console/console.css");
    assertThat(index).doesNotContainPattern("https?://");
    for (String file : files) {
      HttpResponse<String> response = send("GET", file);
      assertThat(response.statusCode()).as(file).isEqualTo(200);
      assertThat(response.body()).as(file).doesNotContainPattern("https?://");
    }
  }

  @ParameterizedTest
  @CsvSource({
      "/healthz,             200, application/json",
      "/metrics,             200, text/plain",
      "/api/v1/status,       200, application/json",
      "/api/v1/apps,         200, application/json",
      "/api/v1/proxies,      200, application/json",
      "/api/v1/nope,         404, application/json",
      "/console/nope.js,     404, application/json",
      "/console/../pom.xml,  404, application/json",
      "/index.html,          404, application/json",
  })
  void everyOtherPathKeepsItsAnswer(String path, int status, String type) throws Exception {
    HttpResponse<String> response = send("GET", path);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
    assertThat(response.headers().firstValue("content-type").orElseThrow()).startsWith(type);
  }

  @Test
  void theConsoleIsReadOnlyAndHeadWorks() throws Exception {
    HttpResponse<String> put = send("PUT", "/");
    assertThat(put.statusCode()).isEqualTo(405);
    assertThat(put.headers().firstValue("allow")).hasValue("GET, HEAD");
    assertThat(put.body()).contains("\"error\":\"method PUT is not allowed on /");
    assertThat(send("POST", "/console/console.js").statusCode()).isEqualTo(405);
    HttpResponse<String> head = send("HEAD", "/");
    assertThat(head.statusCode()).isEqualTo(200);
    assertThat(head.body()).isEmpty();
    // The page itself needs no token; the changes it sends do.
    assertThat(mesh.put("/api/v1/apps/default/hello-app/split", "{\"mode\":\"off\"}",
        Optional.empty()).statusCode()).isEqualTo(401);
  }
}
