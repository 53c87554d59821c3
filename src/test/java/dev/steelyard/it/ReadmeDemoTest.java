package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.steelyard.admin.v1.AppState;
import dev.steelyard.admin.v1.RolloutProgress;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.source.AppFileParser;
import dev.steelyard.source.StaticAppCatalog;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's demo shows the routes versions of `split set hello-app --mode deploy --weight 10`
 * on the embedded demo config. Versions are content hashes, so they are the same on every run:
 * this checks them against a real server, as `serve --demo` would run it, to keep them current.
 */
class ReadmeDemoTest {

  private static final Pattern ROUTES = Pattern.compile(
      "^  (gateway|sidecar|grpc) +routes ([0-9a-f]{16})  acked by", Pattern.MULTILINE);

  @Test
  void theReadmeShowsTheVersionsTheDemoServes(@TempDir Path dir) throws Exception {
    String yaml;
    try (InputStream in = ReadmeDemoTest.class.getResourceAsStream("/steelyard/demo.yaml")) {
      yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    ServerConfig config = ServerConfig.defaults(dir.resolve("data")).withBindHost("127.0.0.1")
        .withPorts(0, 0);
    try (SteelyardServer server = new SteelyardServer(config,
        new StaticAppCatalog(AppFileParser.parse(yaml), "embedded demo config")).start()) {
      HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + server.adminPort()
                  + "/api/v1/apps/default/hello-app/split"))
              .PUT(HttpRequest.BodyPublishers.ofString("{\"mode\":\"deploy\",\"canaryWeight\":10}"))
              .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      AppState.Builder state = AppState.newBuilder();
      JsonFormat.parser().merge(response.body(), state);
      Map<String, String> served = new LinkedHashMap<>();
      for (RolloutProgress progress : state.getProgressList()) {
        served.put(progress.getProxyKind(), progress.getRoutesVersion());
      }

      Map<String, String> shown = new LinkedHashMap<>();
      Matcher matcher = ROUTES.matcher(Files.readString(Path.of("README.md")));
      while (matcher.find()) {
        shown.put(matcher.group(1), matcher.group(2));
      }
      assertThat(shown).as("the routes versions in README.md's demo; update them from a run "
          + "of serve --demo").isEqualTo(served);
    }
  }
}
