package dev.steelyard.translate;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.core.v3.ApiConfigSource;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The Envoy bootstraps in envoy-configs/ parse as Envoy's own Bootstrap message (so every field
 * name and type is real) and identify their proxy kind the way the control plane reads it.
 * No Envoy binary runs here; the kind tests run Envoy itself where Docker exists.
 */
class EnvoyBootstrapTest {

  @ParameterizedTest
  @CsvSource({"gateway.yaml, GATEWAY", "sidecar.yaml, SIDECAR"})
  void bootstrapIsValidAdsConfigForItsKind(String file, ProxyKind kind) throws Exception {
    Object yaml = new ObjectMapper(new YAMLFactory())
        .readValue(Path.of("envoy-configs", file).toFile(), Object.class);
    String json = new ObjectMapper().writeValueAsString(yaml);
    Bootstrap.Builder bootstrap = Bootstrap.newBuilder();
    JsonFormat.parser()
        .usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder()
            .add(HttpProtocolOptions.getDescriptor()).build())
        .merge(json, bootstrap);

    assertThat(ProxyKind.of(bootstrap.getNode())).isEqualTo(kind);
    ApiConfigSource ads = bootstrap.getDynamicResources().getAdsConfig();
    assertThat(ads.getApiType()).isEqualTo(ApiConfigSource.ApiType.GRPC);
    String xdsCluster = ads.getGrpcServices(0).getEnvoyGrpc().getClusterName();
    assertThat(bootstrap.getStaticResources().getClustersList())
        .anySatisfy(cluster -> {
          assertThat(cluster.getName()).isEqualTo(xdsCluster);
          assertThat(cluster.getTypedExtensionProtocolOptionsMap()).as("xDS needs HTTP/2")
              .containsKey("envoy.extensions.upstreams.http.v3.HttpProtocolOptions");
        });
    assertThat(bootstrap.getDynamicResources().getCdsConfig().hasAds()).isTrue();
    assertThat(bootstrap.getDynamicResources().getLdsConfig().hasAds()).isTrue();
  }
}
