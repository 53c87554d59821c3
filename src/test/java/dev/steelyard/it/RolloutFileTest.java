package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.steelyard.demo.RoleBackend;
import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.HookWorkloads;
import dev.steelyard.rollout.Phase;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.source.AppCatalog;
import dev.steelyard.source.FileAppCatalog;
import dev.steelyard.source.HealthCheckedCatalog;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A canary deploy in file mode: the engine runs the workload hook (a shell script that only
 * writes down what it was asked), the test plays the user's deploy system (it starts and stops
 * backends and rewrites the apps file), and the flow waits for the apps file to list the
 * endpoints.
 */
class RolloutFileTest {

  private static final AppKey APP = new AppKey("default", "hello-app");

  private final Map<SubsetRole, List<RoleBackend>> backends = new EnumMap<>(SubsetRole.class);
  private final Map<SubsetRole, String> versions = new EnumMap<>(SubsetRole.class);

  @Test
  void aDeployRunsTheHookAndWaitsForTheAppsFile(@TempDir Path dir) throws Exception {
    Path apps = dir.resolve("apps.yaml");
    Path requests = dir.resolve("requests.log");
    Path hook = dir.resolve("hook.sh");
    Path done = dir.resolve("done.log");
    Files.writeString(done, "");
    // Writes the request down, then returns once the "deploy system" (this test) has done it.
    Files.writeString(hook, "#!/bin/sh\necho \"scaling $2 of $1 to $4 x $3\"\n"
        + "echo \"$@\" >> " + requests + "\n"
        + "n=$(wc -l < " + requests + ")\n"
        + "while [ \"$(wc -l < " + done + ")\" -lt \"$n\" ]; do sleep 0.05; done\n");
    Files.setPosixFilePermissions(hook, PosixFilePermissions.fromString("rwxr-xr-x"));
    for (SubsetRole role : SubsetRole.values()) {
      backends.put(role, new ArrayList<>());
      versions.put(role, "v1");
    }
    scale(SubsetRole.MAIN, "v1", 2);
    Files.writeString(apps, appsYaml());
    AppCatalog catalog = HealthCheckedCatalog.wrap(FileAppCatalog.open(apps,
        Duration.ofMillis(50)));
    ServerConfig config = ServerConfig.defaults(dir.resolve("data")).withBindHost("127.0.0.1")
        .withPorts(0, 0).withHoldoff(Duration.ofMillis(10), Duration.ofMillis(100));
    AtomicBoolean running = new AtomicBoolean(true);
    try (SteelyardServer server = new SteelyardServer(config, catalog)
            .withWorkloads(new HookWorkloads(catalog, Optional.of(hook.toString()))).start();
        XdsTestClient client = new XdsTestClient(server.xdsPort(), "file-client", "hello-app")) {
      assertThat(client.count(100)).containsOnlyKeys("main");
      Thread deploySystem = new Thread(() -> playDeploySystem(requests, apps, done, running));
      deploySystem.start();
      HttpResponse<String> started = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + server.adminPort()
                  + "/api/v1/apps/default/hello-app/rollout"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"kind\":\"deploy\",\"version\":\"v2\","
              + "\"fromVersion\":\"v1\",\"steps\":[20],\"postPromotionWindow\":\"PT1S\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(started.statusCode()).as(started.body()).isEqualTo(201);
      var engine = server.rollouts().orElseThrow();
      await().atMost(Duration.ofSeconds(30)).until(() -> engine.active(APP)
          .map(flow -> flow.phase() == Phase.STEP_JUDGING).orElse(false));

      Binomial.assertSplit(client.count(5_000), 5_000, 0.6, 0.2, 0.2);
      assertThat(engine.active(APP).orElseThrow().phase()).as("measured within the step")
          .isEqualTo(Phase.STEP_JUDGING);
      engine.approve(APP, "the test");
      await().atMost(Duration.ofSeconds(30)).until(() -> engine.latest(APP)
          .map(flow -> flow.phase() == Phase.COMPLETED).orElse(false));
      assertThat(client.countVersions(2_000)).containsExactly(Map.entry("main@v2", 2_000));
      running.set(false);
      deploySystem.join();
      assertThat(Files.readAllLines(requests)).containsExactly(
          "default/hello-app baseline v1 1",
          "default/hello-app canary v2 1",
          "default/hello-app main v2 2",
          "default/hello-app baseline v1 0",
          "default/hello-app canary v2 0");
      Flow flow = engine.latest(APP).orElseThrow();
      assertThat(flow.oldVersion()).isEqualTo("v1");
      assertThat(flow.history()).anyMatch(e -> e.event().equals("judgment")
          && e.detail().contains("approved by the test"));
    } finally {
      running.set(false);
      backends.values().forEach(list -> list.forEach(RoleBackend::close));
    }
  }

  /** Reads the hook's requests and makes them true: backends, then the apps file. */
  private void playDeploySystem(Path requests, Path apps, Path done, AtomicBoolean running) {
    int handled = 0;
    try {
      while (running.get()) {
        List<String> lines = Files.exists(requests) ? Files.readAllLines(requests) : List.of();
        for (; handled < lines.size(); handled++) {
          String[] request = lines.get(handled).split(" ");
          scale(SubsetRole.fromLabel(request[1]), request[2], Integer.parseInt(request[3]));
          Files.writeString(apps, appsYaml());
          Thread.sleep(200);
          Files.writeString(done, "done\n", java.nio.file.StandardOpenOption.APPEND);
        }
        Thread.sleep(50);
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private synchronized void scale(SubsetRole role, String version, int replicas)
      throws java.io.IOException {
    List<RoleBackend> now = backends.get(role);
    if (!version.equals(versions.get(role))) {
      List<RoleBackend> retired = List.copyOf(now);
      // Make before break, as a deploy system would: old backends answer a while longer.
      new Thread(() -> {
        try {
          Thread.sleep(3_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        retired.forEach(RoleBackend::close);
      }).start();
      now.clear();
      versions.put(role, version);
    }
    while (now.size() > replicas) {
      now.remove(now.size() - 1).close();
    }
    while (now.size() < replicas) {
      now.add(RoleBackend.start("hello-app", role, version, "127.0.0.1", 0));
    }
  }

  private synchronized String appsYaml() {
    StringBuilder yaml = new StringBuilder("""
        apps:
          - name: hello-app
            namespace: default
            port: 8080
            protocol: grpc
            endpoints:
        """);
    for (SubsetRole role : SubsetRole.values()) {
      yaml.append("      ").append(role.label()).append(": [")
          .append(String.join(", ", backends.get(role).stream()
              .map(b -> "\"127.0.0.1:" + b.port() + "\"").toList())).append("]\n");
    }
    return yaml.toString();
  }
}
