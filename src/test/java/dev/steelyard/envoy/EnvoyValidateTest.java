package dev.steelyard.envoy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.translate.ProxyKind;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Envoy itself accepts every bootstrap the project ships ({@code envoy --mode validate}): the
 * files in envoy-configs/ and what the k8s/ ConfigMaps hold, which are the same renderer's
 * output (EnvoyBootstrapTest checks that).
 */
class EnvoyValidateTest {

  @ParameterizedTest
  @ValueSource(strings = {"gateway-local", "sidecar-local", "gateway-in-cluster",
      "sidecar-in-cluster"})
  void envoyValidatesTheShippedBootstrap(String which, @org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    Path binary = RealEnvoy.binaryOrSkip();
    ProxyKind kind = which.startsWith("gateway") ? ProxyKind.GATEWAY : ProxyKind.SIDECAR;
    String yaml;
    if (which.endsWith("local")) {
      yaml = Files.readString(Path.of("envoy-configs", kind.label() + ".yaml"));
    } else {
      yaml = (kind == ProxyKind.GATEWAY
          ? EnvoyBootstrap.inCluster(kind, "steelyard-gateway", Optional.empty())
          : EnvoyBootstrap.inCluster(kind, "hello-app", Optional.of("default/hello-app")))
          .yaml();
    }
    Path file = dir.resolve(which + ".yaml");
    Files.writeString(file, yaml);
    // The in-cluster files name no node id: a pod gives it with --service-node.
    Process validate = new ProcessBuilder(binary.toString(), "--mode", "validate", "-c",
        file.toString(), "--service-node", "validate-" + which, "--disable-hot-restart")
        .redirectErrorStream(true).start();
    String output = new String(validate.getInputStream().readAllBytes());
    assertThat(validate.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(validate.exitValue()).as(output).isZero();
    assertThat(output).contains("configuration '" + file + "' OK");
  }
}
