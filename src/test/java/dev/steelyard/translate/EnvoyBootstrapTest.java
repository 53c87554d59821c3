package dev.steelyard.translate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.util.JsonFormat;
import dev.steelyard.envoy.EnvoyBootstrap;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Envoy bootstraps the project ships (envoy-configs/ and the ConfigMaps in k8s/) are
 * {@link EnvoyBootstrap}'s output, parse as Envoy's own Bootstrap message (so every field name
 * and type is real) and identify their proxy kind the way the control plane reads it. Real Envoy
 * validates the same files in {@code dev.steelyard.envoy.EnvoyValidateTest}.
 *
 * <p>After changing {@link EnvoyBootstrap}, rewrite the files with
 * {@code mvn test -Dtest=EnvoyBootstrapTest -Dsteelyard.updateGoldens=true} and review the diff.
 */
class EnvoyBootstrapTest {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final String CONFIGMAP_KEY = "  envoy.yaml: |\n";

  static Stream<Arguments> shipped() {
    return Stream.of(
        Arguments.of("envoy-configs/gateway.yaml", EnvoyBootstrap.local(ProxyKind.GATEWAY)),
        Arguments.of("envoy-configs/sidecar.yaml", EnvoyBootstrap.local(ProxyKind.SIDECAR)),
        Arguments.of("envoy-configs/sidecar-mtls.yaml", EnvoyBootstrap.local(ProxyKind.SIDECAR)
            .withXdsTls(Optional.of(new EnvoyBootstrap.Tls("/etc/steelyard/xds-tls/tls.crt",
                "/etc/steelyard/xds-tls/tls.key", "/etc/steelyard/xds-tls/ca.crt",
                "steelyard")))),
        Arguments.of("k8s/gateway/configmap.yaml", EnvoyBootstrap.inCluster(ProxyKind.GATEWAY,
            "steelyard-gateway", Optional.empty())),
        Arguments.of("k8s/examples/hello-app/sidecar-configmap.yaml",
            EnvoyBootstrap.inCluster(ProxyKind.SIDECAR, "hello-app",
                Optional.of("default/hello-app"))));
  }

  @ParameterizedTest
  @MethodSource("shipped")
  void shippedFileIsTheRenderedBootstrap(String file, EnvoyBootstrap expected) throws Exception {
    Path path = Path.of(file);
    if (Boolean.getBoolean("steelyard.updateGoldens")) {
      rewrite(path, expected);
    }
    assertThat(bootstrapText(path))
        .as("%s is not what EnvoyBootstrap renders; regenerate it (see the class comment)", file)
        .isEqualTo(file.startsWith("envoy-configs/") ? expected.annotatedYaml() : expected.yaml());
  }

  @ParameterizedTest
  @MethodSource("shipped")
  void bootstrapIsValidAdsConfigForItsKind(String file, EnvoyBootstrap expected)
      throws Exception {
    String json = new ObjectMapper().writeValueAsString(YAML.readValue(bootstrapText(
        Path.of(file)), Object.class));
    Bootstrap.Builder bootstrap = Bootstrap.newBuilder();
    JsonFormat.parser()
        .usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder()
            .add(HttpProtocolOptions.getDescriptor())
            .add(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                .getDescriptor()).build())
        .merge(json, bootstrap);

    assertThat(ProxyKind.of(bootstrap.getNode())).isEqualTo(expected.kind());
    ApiConfigSource ads = bootstrap.getDynamicResources().getAdsConfig();
    assertThat(ads.getApiType()).isEqualTo(ApiConfigSource.ApiType.GRPC);
    String xdsCluster = ads.getGrpcServices(0).getEnvoyGrpc().getClusterName();
    assertThat(bootstrap.getStaticResources().getClustersList())
        .anySatisfy(cluster -> {
          assertThat(cluster.getName()).isEqualTo(xdsCluster);
          HttpProtocolOptions options = cluster.getTypedExtensionProtocolOptionsMap()
              .get("envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
              .unpack(HttpProtocolOptions.class);
          assertThat(options.getExplicitHttpConfig().getHttp2ProtocolOptions()
              .getConnectionKeepalive().getInterval().getSeconds())
              .as("keepalive on the xDS connection, above the server's permitKeepAliveTime")
              .isGreaterThanOrEqualTo(10);
        });
    assertThat(bootstrap.getDynamicResources().getCdsConfig().hasAds()).isTrue();
    assertThat(bootstrap.getDynamicResources().getLdsConfig().hasAds()).isTrue();
  }

  /** The bootstrap itself: the whole file, or a ConfigMap's {@code envoy.yaml}. */
  static String bootstrapText(Path file) throws Exception {
    if (!file.startsWith("k8s")) {
      return Files.readString(file);
    }
    JsonNode configMap = YAML.readTree(file.toFile());
    return configMap.path("data").path("envoy.yaml").asText();
  }

  private static void rewrite(Path file, EnvoyBootstrap bootstrap) throws Exception {
    if (!file.startsWith("k8s")) {
      Files.writeString(file, bootstrap.annotatedYaml());
      return;
    }
    String text = Files.readString(file);
    int block = text.indexOf(CONFIGMAP_KEY);
    assertThat(block).as("%s has no '%s' block", file, CONFIGMAP_KEY.strip()).isPositive();
    String indented = bootstrap.yaml().lines().map(line -> "    " + line + "\n")
        .reduce("", String::concat);
    Files.writeString(file, text.substring(0, block + CONFIGMAP_KEY.length()) + indented);
  }
}
