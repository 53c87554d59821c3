package dev.steelyard.envoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.demo.HttpProbe;
import dev.steelyard.it.Binomial;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.ProxyScope;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Envoy sidecar that declares the apps it calls ({@code steelyard.calls}) is sent only
 * those apps: their clusters, and their virtual hosts in the usual route configuration. A
 * weight change of an app it does not call sends it nothing; one of an app it calls reaches it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SidecarScopeTest {

  private static final int REQUESTS = 400;
  private static final String RDS_UPDATES =
      "http.sidecar_outbound.rds.steelyard_sidecar_outbound.update_success";

  private EnvoyMesh mesh;
  private EnvoyProcess scoped;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    mesh = new EnvoyMesh(dir);
    mesh.addApp("hello-app", "http", 1, 0, 1);
    mesh.addApp("other-app", "http", 1, 0, 1);
    mesh.startServer();
    // The only sidecar: two would share the outbound port.
    scoped = mesh.startEnvoy(EnvoyBootstrap.local(ProxyKind.SIDECAR)
        .withXdsToken(Optional.of(mesh.xdsToken))
        .withCalls(Optional.of(ProxyScope.parse(List.of("default/hello-app")))),
        "sidecar-scoped");
    mesh.sidecar = scoped;
  }

  @AfterAll
  void stop() {
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  void aScopedSidecarGetsOnlyTheAppsItCallsAndNoPushForOthers() throws Exception {
    await().atMost(Duration.ofSeconds(15)).until(() ->
        mesh.viaSidecar("hello-app", 20).counts().getOrDefault("main", 0) == 20);
    HttpProbe.Result other = mesh.viaSidecar("other-app", 10);
    assertThat(other.counts()).as("no virtual host for an app it does not call")
        .containsOnlyKeys("HTTP 404");
    String clusters = scoped.admin("/clusters").body();
    assertThat(clusters).contains("default/hello-app/main::", "default/hello-app/canary::")
        .doesNotContain("default/other-app");

    double before = stat(RDS_UPDATES);
    mesh.putSplit("other-app", "{\"mode\":\"test\",\"canaryWeight\":50}");
    // The publish is done when the PUT returns; give a stray push time to arrive.
    Thread.sleep(1_000);
    assertThat(stat(RDS_UPDATES)).as("route updates after another app's weight change")
        .isEqualTo(before);

    mesh.putSplit("hello-app", "{\"mode\":\"test\",\"canaryWeight\":50}");
    await().atMost(Duration.ofSeconds(10)).until(() -> stat(RDS_UPDATES) > before);
    await().atMost(Duration.ofSeconds(10)).until(() -> EnvoyMesh.allAcked(
        mesh.getJson("/api/v1/apps/default/hello-app"), ProxyKind.SIDECAR));
    Binomial.assertSplit(mesh.viaSidecar("hello-app", REQUESTS).counts(), REQUESTS, 0.5, 0,
        0.5);
  }

  private double stat(String name) throws Exception {
    String filter = java.net.URLEncoder.encode("^" + name.replace(".", "\\.") + "$",
        java.nio.charset.StandardCharsets.UTF_8);
    for (String line : scoped.admin("/stats?filter=" + filter).body().split("\n")) {
      if (line.startsWith(name + ": ")) {
        return Double.parseDouble(line.substring(name.length() + 2).strip());
      }
    }
    throw new AssertionError("Envoy has no stat " + name);
  }
}
