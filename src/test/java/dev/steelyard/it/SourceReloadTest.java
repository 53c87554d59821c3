package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.demo.RoleBackend;
import dev.steelyard.publish.KindVersions;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.view.SubsetRole;
import dev.steelyard.xds.XdsType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Changes to the apps file reach a real client; a bad file changes nothing. */
class SourceReloadTest {

  @Test
  void badFileKeepsServingThenAnEmptiedCanaryHandsItsShareToMain(@TempDir Path dir)
      throws Exception {
    try (TestMesh mesh = new TestMesh(dir, new int[] {1, 1, 1}, Optional.empty());
        XdsTestClient client = new XdsTestClient(mesh.server.xdsPort(), "reload-client",
            "hello-app.default.svc.cluster.local:8080")) {
      assertThat(mesh.putSplit("{\"mode\":\"test\",\"canaryWeight\":50}").statusCode())
          .isEqualTo(200);
      Binomial.assertSplit(client.count(1_000), 1_000, 0.5, 0, 0.5);
      Map<ProxyKind, KindVersions> before = mesh.server.publisher().current().versions();

      Files.writeString(mesh.appsFile, mesh.appsYaml().replace("port: 8080", "port: eighty"));
      await().atMost(Duration.ofSeconds(5)).until(() ->
          mesh.get("/api/v1/status").body().contains("keeping the last good apps"));
      assertThat(mesh.get("/api/v1/status").body()).contains(
          "apps.yaml: apps[0].port: expected a port number 1..65535, got \\u0027eighty\\u0027");
      assertThat(mesh.server.publisher().current().versions()).isEqualTo(before);
      Binomial.assertSplit(client.count(1_000), 1_000, 0.5, 0, 0.5);

      // The canary leaves the file: its 50 % must go to main, not to an empty subset. Its
      // backend keeps running, so a single misrouted RPC would show up as "canary".
      java.util.List<dev.steelyard.demo.RoleBackend> canary = new java.util.ArrayList<>(
          mesh.backends.get(SubsetRole.CANARY));
      mesh.backends.get(SubsetRole.CANARY).clear();
      Files.writeString(mesh.appsFile, mesh.appsYaml());
      await().atMost(Duration.ofSeconds(5)).until(() -> mesh.get("/api/v1/apps/default/hello-app")
          .body().contains("mesh: canary has no ready endpoints; its 50.0 % goes to main"));
      assertThat(mesh.get("/api/v1/status").body()).contains("\"sourceError\": \"\"");
      var published = mesh.server.publisher().current();
      await().atMost(Duration.ofSeconds(10)).until(() -> mesh.server.proxies().proxies().stream()
          .anyMatch(proxy -> proxy.hasApplied(
              published.snapshots().get(proxy.group()), XdsType.ROUTES)));
      Binomial.assertSplit(client.count(1_000), 1_000, 1, 0, 0);
      canary.forEach(dev.steelyard.demo.RoleBackend::close);
    }
  }

  @Test
  void aMovedMainPodReachesTheClientInAnEndpointsResponseOfItsOwn(@TempDir Path dir)
      throws Exception {
    try (TestMesh mesh = new TestMesh(dir, new int[] {1, 0, 1}, Optional.empty());
        XdsTestClient client = new XdsTestClient(mesh.server.xdsPort(), "moving-client",
            "hello-app.default.svc.cluster.local:8080")) {
      assertThat(mesh.putSplit("{\"mode\":\"test\",\"canaryWeight\":50}").statusCode())
          .isEqualTo(200);
      Binomial.assertSplit(client.count(1_000), 1_000, 0.5, 0, 0.5);

      // Main moves to a new pod; only main's assignment changes, so the client is sent that
      // one alone. Once it has ACKed, the old pod goes away: an RPC still sent there fails.
      List<dev.steelyard.demo.RoleBackend> mains = mesh.backends.get(SubsetRole.MAIN);
      dev.steelyard.demo.RoleBackend old = mains.remove(0);
      mains.add(RoleBackend.start("hello-app", SubsetRole.MAIN, "127.0.0.1", 0));
      double notResent = notResent(mesh);
      Files.writeString(mesh.appsFile, mesh.appsYaml());
      await().atMost(Duration.ofSeconds(5)).until(() -> mesh.server.publisher().current().view()
          .apps().get(0).spec().endpoints(SubsetRole.MAIN).get(0).port()
          == mains.get(0).port());
      var published = mesh.server.publisher().current();
      await().atMost(Duration.ofSeconds(10)).until(() -> mesh.server.proxies().proxies().stream()
          .anyMatch(proxy -> proxy.hasApplied(
              published.snapshots().get(proxy.group()), XdsType.ENDPOINTS)));
      assertThat(notResent(mesh)).as("the canary assignment was left out of the response")
          .isGreaterThanOrEqualTo(notResent + 1);
      old.close();
      Binomial.assertSplit(client.count(1_000), 1_000, 0.5, 0, 0.5);
    }
  }

  @Test
  void aFifoInPlaceOfTheAppsFileIsNotReadAndALaterGoodFileIs(@TempDir Path dir)
      throws Exception {
    try (TestMesh mesh = new TestMesh(dir, new int[] {1, 0, 1}, Optional.empty())) {
      String good = Files.readString(mesh.appsFile);
      Files.delete(mesh.appsFile);
      Process mkfifo = new ProcessBuilder("mkfifo", mesh.appsFile.toString()).start();
      assertThat(mkfifo.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      assertThat(mkfifo.exitValue()).isZero();
      await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() ->
          mesh.get("/api/v1/status").body().contains("apps.yaml: not a regular file (a FIFO, "
              + "socket or device); only regular files are read; keeping the last good apps"));

      // Nothing blocked on the FIFO: the next good file is read.
      Files.delete(mesh.appsFile);
      Files.writeString(mesh.appsFile, good.replace("hello-app.example.com", "hi.example.com"));
      await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() ->
          mesh.get("/api/v1/apps/default/hello-app").body().contains("hi.example.com"));
      assertThat(mesh.get("/api/v1/status").body()).contains("\"sourceError\": \"\"");
    }
  }

  @Test
  void aFileDeletedAndRestoredWithTheSameBytesClearsItsError(@TempDir Path dir)
      throws Exception {
    try (TestMesh mesh = new TestMesh(dir, new int[] {1, 0, 1}, Optional.empty())) {
      byte[] good = Files.readAllBytes(mesh.appsFile);
      Files.delete(mesh.appsFile);
      await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() ->
          mesh.get("/api/v1/status").body().contains("apps.yaml: no such file; keeping the "
              + "last good apps"));
      Files.write(mesh.appsFile, good);
      await().atMost(Duration.ofSeconds(5)).ignoreExceptions().until(() ->
          mesh.get("/api/v1/status").body().contains("\"sourceError\": \"\""));
      assertThat(mesh.get("/readyz").statusCode()).isEqualTo(200);
    }
  }

  private static double notResent(TestMesh mesh) throws Exception {
    return mesh.get("/metrics").body().lines()
        .filter(line -> line.startsWith("steelyard_xds_endpoints_not_resent_total "))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.indexOf(' ') + 1)))
        .findFirst().orElseThrow();
  }
}
