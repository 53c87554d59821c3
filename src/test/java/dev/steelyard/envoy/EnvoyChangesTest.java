package dev.steelyard.envoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.steelyard.demo.RoleBackend;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.view.SubsetRole;
import dev.steelyard.xds.XdsType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Under steady load through a real gateway and a real sidecar, the mesh changes in every way an
 * operator or a rollout changes it, and no request for an existing app fails: Steelyard orders
 * its pushes make-before-break (a share leaves a subset before the subset empties; clusters and
 * endpoints are in place before a route names them).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EnvoyChangesTest {

  private EnvoyMesh mesh;

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    mesh = new EnvoyMesh(dir);
    mesh.addApp("hello-app", "http", 2, 1, 1);
    mesh.addApp("other-app", "http", 1, 0, 0);
    mesh.startServer();
    mesh.startEnvoys();
  }

  @AfterAll
  void stop() {
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  void noRequestFailsWhileWeightsEndpointsAndAppsChange() throws Exception {
    List<String> splits = List.of(
        "{\"mode\":\"deploy\",\"canaryWeight\":1}",
        "{\"mode\":\"deploy\",\"canaryWeight\":10}",
        "{\"mode\":\"deploy\",\"canaryWeight\":25}",
        "{\"mode\":\"deploy\",\"canaryWeight\":50}",
        "{\"mode\":\"deploy\",\"canaryWeight\":0}",
        "{\"mode\":\"test\",\"canaryWeight\":5}",
        "{\"mode\":\"test\",\"canaryWeight\":100}",
        "{\"mode\":\"test\",\"canaryWeight\":0}",
        "{\"mode\":\"test\",\"canaryWeight\":30}",
        "{\"mode\":\"deploy\",\"canaryWeight\":5,"
            + "\"gateway\":{\"mode\":\"test\",\"canaryWeight\":50}}",
        "{\"mode\":\"deploy\",\"canaryWeight\":12.5}",
        "{\"mode\":\"off\",\"canaryWeight\":0,\"gatewayFollowsMesh\":true}",
        "{\"mode\":\"deploy\",\"canaryWeight\":0.01}",
        "{\"mode\":\"deploy\",\"canaryWeight\":49.99}",
        "{\"mode\":\"test\",\"canaryWeight\":99}",
        "{\"mode\":\"test\",\"canaryWeight\":1}",
        "{\"mode\":\"deploy\",\"canaryWeight\":20}",
        "{\"mode\":\"off\",\"canaryWeight\":0}",
        "{\"mode\":\"deploy\",\"canaryWeight\":33}",
        "{\"mode\":\"deploy\",\"canaryWeight\":10}");
    EnvoyMesh.App hello = mesh.apps.get("hello-app");
    try (SteadyLoad gateway = new SteadyLoad(mesh.http, mesh.gatewayPort, hello.gatewayHost(), 4,
            started);
        SteadyLoad sidecar = new SteadyLoad(mesh.http, mesh.sidecarPort, "hello-app", 4,
            started)) {
      for (String split : splits) {
        setAndAwaitAll(split);
        Thread.sleep(150);
      }
      // Endpoints added and removed: a new canary pod, then one main pod goes. A removed
      // backend keeps running until the proxies have applied its removal, as a pod drains.
      hello.backends.get(SubsetRole.CANARY).add(
          RoleBackend.start("hello-app", SubsetRole.CANARY, "127.0.0.1", 0));
      applyApps();
      RoleBackend removed = hello.backends.get(SubsetRole.MAIN).remove(0);
      applyApps();
      removed.close();
      // A subset emptied while it carries a share (deploy 10): its share moves to main first.
      List<RoleBackend> canaries = List.copyOf(hello.backends.get(SubsetRole.CANARY));
      hello.backends.get(SubsetRole.CANARY).clear();
      applyApps();
      canaries.forEach(RoleBackend::close);
      // And it comes back.
      hello.backends.get(SubsetRole.CANARY).add(
          RoleBackend.start("hello-app", SubsetRole.CANARY, "127.0.0.1", 0));
      applyApps();
      // An app added, another removed.
      mesh.addApp("new-app", "http", 1, 0, 1);
      applyApps();
      EnvoyMesh.App other = mesh.apps.remove("other-app");
      applyApps();
      other.backends.values().forEach(backends -> backends.forEach(RoleBackend::close));
      Thread.sleep(500);
      gateway.close();
      sidecar.close();
      System.out.println("[envoy] under change, gateway: " + gateway.describe());
      System.out.println("[envoy] under change, sidecar: " + sidecar.describe());
      assertThat(gateway.failed()).as(gateway.describe()).isZero();
      assertThat(sidecar.failed()).as(sidecar.describe()).isZero();
      assertThat(gateway.counts()).containsKeys("main", "baseline", "canary");
    }
  }

  private final long started = System.nanoTime();

  private void step(String what) {
    System.out.printf("[envoy] +%.3f s %s%n", (System.nanoTime() - started) / 1e9, what);
  }

  private void setAndAwaitAll(String split) throws Exception {
    step("split " + split);
    mesh.putSplit("hello-app", split);
    awaitAllAcked();
  }

  /** Rewrites the apps file and waits until both Envoys have ACKed what it led to. */
  private void applyApps() throws Exception {
    step("apps file: " + mesh.apps.values().stream().map(app -> app.name + " "
        + app.backends.values().stream().map(List::size).toList()).toList());
    long before = mesh.server.publisher().current().generation();
    mesh.writeApps();
    await().atMost(Duration.ofSeconds(10))
        .until(() -> mesh.server.publisher().current().generation() > before);
    awaitAllAcked();
  }

  private void awaitAllAcked() {
    await().atMost(Duration.ofSeconds(15)).until(() -> {
      var published = mesh.server.publisher().current();
      return mesh.server.proxies().proxies().stream()
          .filter(proxy -> proxy.kind() != ProxyKind.GRPC)
          // Every type but scoped routes (these Envoys have the shared route layout).
          .allMatch(proxy -> Stream.of(XdsType.values())
              .filter(type -> type != XdsType.SCOPED_ROUTES).allMatch(type ->
              proxy.hasApplied(published.snapshots().get(proxy.group()), type)));
    });
  }
}
