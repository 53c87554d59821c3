package dev.steelyard.translate;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The whole output per proxy kind for the sample view, as reviewed JSON under
 * src/test/resources/golden. After an intended change, regenerate with
 * {@code mvn test -Dtest=GoldenResourcesTest -Dsteelyard.updateGoldens=true} and review the diff.
 */
class GoldenResourcesTest {

  private static final Path GOLDEN = Path.of("src/test/resources/golden");
  private static final JsonFormat.Printer JSON = JsonFormat.printer()
      .usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder()
          .add(HttpConnectionManager.getDescriptor())
          .add(Router.getDescriptor())
          .add(HttpProtocolOptions.getDescriptor())
          .build());

  @ParameterizedTest
  @EnumSource(ProxyKind.class)
  void resourcesMatchTheGoldenFile(ProxyKind kind) throws Exception {
    ProxyResources resources = MeshTranslator.translate(SampleViews.sample(), kind,
        TranslatorSettings.DEFAULTS);
    StringBuilder json = new StringBuilder();
    append(json, "clusters", resources.clusters());
    append(json, "endpoints", resources.endpoints());
    append(json, "listeners", resources.listeners());
    append(json, "routes", resources.routes());
    Path file = GOLDEN.resolve(kind.label() + ".json");
    if (Boolean.getBoolean("steelyard.updateGoldens")) {
      Files.writeString(file, json);
    }
    assertThat(json.toString()).isEqualTo(Files.readString(file));
  }

  private static void append(StringBuilder json, String type, List<? extends Message> messages)
      throws Exception {
    json.append("# ").append(type).append('\n');
    for (Message message : messages) {
      json.append(JSON.print(message)).append('\n');
    }
  }
}
