package dev.steelyard.envoy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.steelyard.demo.HttpProbe;
import dev.steelyard.it.Binomial;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code steelyard serve --demo} as a separate process, as the README runs it: it starts an
 * Envoy gateway and sidecar of its own, the split shows through them, and stopping the demo
 * stops every process it started. Every port is a free one.
 */
class DemoThroughEnvoyTest {

  /** A free port whose successor is free too (the demo's sidecar admin port). */
  private static int freePortPair() {
    for (int attempt = 0; attempt < 20; attempt++) {
      int port = EnvoyMesh.freePort();
      try (java.net.ServerSocket next = new java.net.ServerSocket(port + 1)) {
        return port;
      } catch (java.io.IOException taken) {
        // try another
      }
    }
    throw new IllegalStateException("no two adjacent free ports");
  }

  @Test
  void theDemoSplitsThroughItsOwnEnvoysAndStopsThem(@TempDir Path dir) throws Exception {
    Path envoy = RealEnvoy.binaryOrSkip();
    int xds = EnvoyMesh.freePort();
    int admin = EnvoyMesh.freePort();
    int gateway = EnvoyMesh.freePort();
    int sidecar = EnvoyMesh.freePort();
    int envoyAdmin = freePortPair();
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), "dev.steelyard.cli.SteelyardCommand",
        "serve", "--demo", "--envoy", envoy.toString(), "--bind", "127.0.0.1",
        "--xds-port", "" + xds, "--admin-port", "" + admin, "--gateway-port", "" + gateway,
        "--sidecar-port", "" + sidecar, "--envoy-admin-port", "" + envoyAdmin,
        "--data-dir", dir.resolve("data").toString()));
    Process demo = new ProcessBuilder(command).redirectErrorStream(true).start();
    List<String> output = new ArrayList<>();
    CompletableFuture<Void> envoysUp = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader lines = new BufferedReader(
          new InputStreamReader(demo.getInputStream()))) {
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
          synchronized (output) {
            output.add(line);
          }
          if (line.contains("demo Envoy gateway on")) {
            envoysUp.complete(null);
          }
        }
      } catch (java.io.IOException e) {
        // the process went away
      }
    });
    reader.setDaemon(true);
    reader.start();
    List<ProcessHandle> started;
    try (HttpProbe http = new HttpProbe(8)) {
      envoysUp.get(90, TimeUnit.SECONDS);
      started = demo.descendants().toList();
      assertThat(started).as("the demo's Envoys").hasSize(2);

      assertThat(http.send(gateway, "hello-app.example.com", "/", Duration.ofSeconds(5))
          .get(10, TimeUnit.SECONDS))
          .isEqualTo("main");
      HttpClient client = HttpClient.newHttpClient();
      HttpResponse<String> put = client.send(HttpRequest.newBuilder(URI.create(
              "http://127.0.0.1:" + admin + "/api/v1/apps/default/hello-app/split"))
          .PUT(HttpRequest.BodyPublishers.ofString("{\"mode\":\"deploy\",\"canaryWeight\":10}"))
          .build(), HttpResponse.BodyHandlers.ofString());
      assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
      await().atMost(Duration.ofSeconds(10)).until(() -> {
        JsonNode state = new ObjectMapper().readTree(client.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + admin + "/api/v1/apps/default/hello-app")).build(),
            HttpResponse.BodyHandlers.ofString()).body());
        return EnvoyMesh.allAcked(state, dev.steelyard.translate.ProxyKind.GATEWAY)
            && EnvoyMesh.allAcked(state, dev.steelyard.translate.ProxyKind.SIDECAR);
      });
      HttpProbe.Result viaGateway = http.run(gateway, "hello-app.example.com", "/", 4000,
          Duration.ofSeconds(5));
      HttpProbe.Result viaSidecar = http.run(sidecar, "hello-app", "/", 4000,
          Duration.ofSeconds(5));
      System.out.println("[envoy] demo at deploy 10: gateway " + viaGateway.counts()
          + ", sidecar " + viaSidecar.counts());
      Binomial.assertSplit(viaGateway.counts(), 4000, 0.8, 0.1, 0.1);
      Binomial.assertSplit(viaSidecar.counts(), 4000, 0.8, 0.1, 0.1);
    } finally {
      demo.destroy();
      assertThat(demo.waitFor(30, TimeUnit.SECONDS)).as("the demo stops on SIGTERM").isTrue();
    }
    await().atMost(Duration.ofSeconds(10))
        .until(() -> started.stream().noneMatch(ProcessHandle::isAlive));
    synchronized (output) {
      assertThat(String.join("\n", output)).contains("demo Envoy gateway on :" + gateway)
          .as("the hints carry the ports in use")
          .contains("bin/steelyard probe hello-app --xds 127.0.0.1:" + xds)
          .contains("probe --via gateway hello-app --gateway 127.0.0.1:" + gateway
              + " --admin http://127.0.0.1:" + admin);
    }
  }
}
