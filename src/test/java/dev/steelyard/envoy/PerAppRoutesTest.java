package dev.steelyard.envoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.it.Binomial;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.TranslatorSettings;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Envoy sidecar with per-app routes ({@code --sidecar-routes per-app}): the Host header
 * chooses the app's own route configuration, under every name the shared layout answers to, and
 * a weight change sends the sidecar the changed app's routes only, which Envoy applies while it
 * keeps every other app's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PerAppRoutesTest {

  private static final int REQUESTS = 400;

  private EnvoyMesh mesh;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    mesh = new EnvoyMesh(dir);
    mesh.sidecarRoutes = TranslatorSettings.SidecarRoutes.PER_APP;
    mesh.addApp("hello-app", "http", 1, 0, 1);
    mesh.addApp("other-app", "http", 1, 0, 1);
    mesh.startServer();
    mesh.sidecar = mesh.startEnvoy(ProxyKind.SIDECAR, "sidecar-1");
  }

  @AfterAll
  void stop() {
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  void eachAppIsReachedByItsNamesAndAWeightStepSendsOnlyItsRoutes() throws Exception {
    for (String app : new String[] {"hello-app", "other-app"}) {
      await().atMost(Duration.ofSeconds(15)).until(() ->
          mesh.viaSidecar(app, 20).counts().getOrDefault("main", 0) == 20);
    }
    for (String host : new String[] {"hello-app:8080", "hello-app.default",
        "hello-app.default.svc.cluster.local:8080", "other-app", "other-app.default.svc:8080"}) {
      assertThat(mesh.viaSidecar(host, 10).counts()).as(host).containsOnlyKeys("main");
    }
    assertThat(mesh.viaSidecar("nobody", 5).counts()).as("a name no app has")
        .containsOnlyKeys("HTTP 404");
    assertThat(mesh.viaSidecar("hello-app:9999", 5).counts())
        .as("the app's name with another port, as the shared layout answers it")
        .containsOnlyKeys("HTTP 404");

    double leftOut = mesh.metric("steelyard_xds_routes_not_resent_total");
    for (int weight : new int[] {30, 60, 0}) {
      mesh.putSplit("other-app", "{\"mode\":\"test\",\"canaryWeight\":" + weight + "}");
      await().atMost(Duration.ofSeconds(10)).until(() -> EnvoyMesh.allAcked(
          mesh.getJson("/api/v1/apps/default/other-app"), ProxyKind.SIDECAR));
    }
    assertThat(mesh.metric("steelyard_xds_routes_not_resent_total"))
        .as("hello-app's routes left out of the three pushes of other-app's")
        .isGreaterThanOrEqualTo(leftOut + 3);
    assertThat(mesh.viaSidecar("hello-app", 50).counts())
        .as("routes Envoy was not sent again are the ones it keeps").containsOnlyKeys("main");

    mesh.putSplit("hello-app", "{\"mode\":\"test\",\"canaryWeight\":50}");
    await().atMost(Duration.ofSeconds(10)).until(() -> EnvoyMesh.allAcked(
        mesh.getJson("/api/v1/apps/default/hello-app"), ProxyKind.SIDECAR));
    Binomial.assertSplit(mesh.viaSidecar("hello-app", REQUESTS).counts(), REQUESTS, 0.5, 0,
        0.5);
  }

  @Test
  void anAppAddedOrRemovedChangesTheScopesAndNotTheListener() throws Exception {
    // The other test may have split hello-app; either way no request of it fails.
    await().atMost(Duration.ofSeconds(15)).until(() ->
        mesh.viaSidecar("hello-app", 10).counts().keySet().stream()
            .noneMatch(outcome -> outcome.startsWith("HTTP") || outcome.startsWith("error")));
    String listener = mesh.proxies().get("sidecar-1").path("ackedVersions").path("listeners")
        .asText();
    mesh.addApp("third-app", "http", 1, 0, 0);
    mesh.writeApps();
    await().atMost(Duration.ofSeconds(15)).until(() ->
        mesh.viaSidecar("third-app", 10).counts().getOrDefault("main", 0) == 10);
    assertThat(mesh.viaSidecar("third-app.default.svc:8080", 10).counts())
        .containsOnlyKeys("main");
    mesh.apps.remove("third-app");
    mesh.writeApps();
    await().atMost(Duration.ofSeconds(15)).until(() ->
        mesh.viaSidecar("third-app", 5).counts().containsKey("HTTP 404"));
    assertThat(mesh.viaSidecar("hello-app", 10).counts().keySet())
        .noneMatch(outcome -> outcome.startsWith("HTTP") || outcome.startsWith("error"));
    assertThat(mesh.proxies().get("sidecar-1").path("ackedVersions").path("listeners").asText())
        .as("the listener Envoy runs").isEqualTo(listener).isNotEmpty();
  }
}
