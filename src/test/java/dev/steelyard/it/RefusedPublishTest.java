package dev.steelyard.it;

import static dev.steelyard.publish.SnapshotPublisherTest.app;
import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.publish.SnapshotPublisherTest.MutableCatalog;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.view.AppKey;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A configuration the validator refuses is reported by the API, not hidden behind a 200. */
class RefusedPublishTest {

  @Test
  void aSplitWhoseConfigurationIsRefusedAnswers500AndStatusSaysWhy(@TempDir Path dir)
      throws Exception {
    AppKey hello = new AppKey("default", "hello-app");
    MutableCatalog catalog = new MutableCatalog(
        List.of(app(hello, "a.io")));
    try (SteelyardServer server = new SteelyardServer(
        ServerConfig.defaults(dir).withPorts(0, 0).withBindHost("127.0.0.1"), catalog).start()) {
      // A source that let two apps claim one gateway host (the file parser would refuse it).
      catalog.set(List.of(app(hello, "a.io"),
          app(new AppKey("default", "other"), "a.io")));
      HttpClient http = HttpClient.newHttpClient();
      String admin = "http://127.0.0.1:" + server.adminPort();
      HttpResponse<String> put = http.send(HttpRequest.newBuilder(
              URI.create(admin + "/api/v1/apps/default/hello-app/split"))
          .PUT(HttpRequest.BodyPublishers.ofString("{\"mode\":\"test\",\"canaryWeight\":5}"))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(put.statusCode()).isEqualTo(500);
      assertThat(put.body()).contains("split stored, but the new configuration was refused")
          .contains("domain 'a.io' is used twice");
      String status = http.send(HttpRequest.newBuilder(URI.create(admin + "/api/v1/status"))
          .build(), HttpResponse.BodyHandlers.ofString()).body();
      assertThat(status).contains("\"publishError\": \"refused, proxies keep the previous");
    }
  }

}
