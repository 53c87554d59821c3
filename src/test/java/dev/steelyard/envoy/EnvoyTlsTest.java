package dev.steelyard.envoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.steelyard.it.TestCertificates;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.xds.XdsAuth;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Envoy on an xDS port that takes client certificates only: the bootstrap's TLS settings get
 * it in under the node id its certificate names, and it serves traffic.
 */
class EnvoyTlsTest {

  @Test
  void anEnvoyWithItsCertificateIsServedAndShownAsAuthenticated(@TempDir Path dir)
      throws Exception {
    TestCertificates certificates = new TestCertificates(dir, "steelyard-envoy-test");
    TestCertificates.Issued server = certificates.issue("localhost");
    TestCertificates.Issued gateway = certificates.issue("gateway-tls");
    try (EnvoyMesh mesh = new EnvoyMesh(dir)) {
      mesh.xdsAuth = new XdsAuth(Optional.empty(), Optional.of(new XdsAuth.Tls(
          server.certificate(), server.privateKey(), Optional.of(certificates.caFile))));
      mesh.addApp("hello-app", "http", 1, 0, 0);
      mesh.startServer();
      EnvoyBootstrap bootstrap = EnvoyBootstrap.local(ProxyKind.GATEWAY)
          .withXds("127.0.0.1", mesh.server.xdsPort())
          .withAdmin("127.0.0.1", EnvoyMesh.freePort())
          .withXdsTls(Optional.of(new EnvoyBootstrap.Tls(gateway.certificate().toString(),
              gateway.privateKey().toString(), certificates.caFile.toString(), "localhost")));
      try (EnvoyProcess envoy = EnvoyProcess.start(mesh.binary, bootstrap, "gateway-tls",
          dir.resolve("envoy")).awaitReady(Duration.ofSeconds(30))) {
        JsonNode proxy = mesh.getJson("/api/v1/proxies").get("proxies").get(0);
        assertThat(proxy.get("nodeId").asText()).isEqualTo("gateway-tls");
        assertThat(proxy.get("authMethod").asText()).isEqualTo("certificate");
        assertThat(proxy.get("identity").asText()).contains("gateway-tls");
        mesh.putSplit("hello-app", "{\"mode\":\"test\",\"canaryWeight\":0}");
        await().atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() ->
            mesh.http.run(mesh.gatewayPort, mesh.apps.get("hello-app").gatewayHost(), "/", 20,
                Duration.ofSeconds(5)).counts().equals(java.util.Map.of("main", 20)));
      }
    }
  }
}
