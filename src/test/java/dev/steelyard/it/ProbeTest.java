package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.steelyard.cli.SteelyardCommand;
import dev.steelyard.view.SubsetRole;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code steelyard probe} against a real server whose canary endpoint is dead (its backend is
 * closed, nothing listens on its port), an unknown app, an unreachable control plane, and HTTP
 * backends standing in for an Envoy.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProbeTest {

  private TestMesh mesh;
  private String deadCanary;

  private record Run(int code, String out, String err) {}

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    mesh = new TestMesh(dir, new int[] {1, 1, 1}, Optional.empty());
    assertThat(mesh.putSplit("{\"mode\":\"deploy\",\"canaryWeight\":10}").statusCode())
        .isEqualTo(200);
    var canary = mesh.backends.get(SubsetRole.CANARY).get(0);
    deadCanary = "127.0.0.1:" + canary.port();
    canary.close();
  }

  @AfterAll
  void stop() {
    mesh.close();
  }

  private Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = SteelyardCommand.commandLine();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  private String xds() {
    return "127.0.0.1:" + mesh.server.xdsPort();
  }

  @Test
  void aDeadCanaryEndpointEndsTheProbeWithItsFailuresCountedAndExitOne() {
    Run probe = run("probe", "hello-app", "-n", "1000", "--timeout", "2s", "--xds", xds());
    assertThat(probe.code()).as(probe.out() + probe.err()).isEqualTo(1);
    assertThat(probe.out()).startsWith("probe xds:///hello-app via " + xds()
        + ": 1000 requests, ");
    String canary = probe.out().lines().filter(line -> line.startsWith("  canary "))
        .findFirst().orElseThrow();
    String[] columns = canary.trim().split("\\s+");
    int canaryRequests = Integer.parseInt(columns[1]);
    int canaryFailed = Integer.parseInt(columns[3]);
    // 5 sigma of 1000 draws at p = 0.10 is about 47 requests.
    assertThat(canaryRequests).isBetween(100 - 47, 100 + 47);
    assertThat(canaryFailed).as("every canary request failed").isEqualTo(canaryRequests);
    assertThat(probe.out()).containsPattern("main\\s+\\d+\\s+\\d+\\.\\d\\d%\\s+0\n")
        .contains("failed requests:")
        .containsPattern("canary\\s+(" + deadCanary.replace(".", "\\.")
            + "|endpoint unknown)\\s+\\d+\\s+UNAVAILABLE");
  }

  @Test
  void anUnknownAppIsNamedAndExitsTwo() {
    long start = System.nanoTime();
    Run probe = run("probe", "nope", "-n", "10", "--xds", xds());
    assertThat(probe.code()).isEqualTo(2);
    assertThat(probe.err().strip())
        .isEqualTo("steelyard: no such app on the control plane: nope");
    assertThat(probe.out()).isEmpty();
    assertThat(System.nanoTime() - start).as("no xDS fetch timeout waited out")
        .isLessThan(TimeUnit.SECONDS.toNanos(10));
  }

  @Test
  void anUnreachableControlPlaneIsNamedAndExitsOne() {
    Run probe = run("probe", "hello-app", "-n", "10", "--xds", "127.0.0.1:1");
    assertThat(probe.code()).isEqualTo(1);
    assertThat(probe.err()).startsWith("steelyard: control plane unreachable at 127.0.0.1:1 (");
    assertThat(probe.out()).isEmpty();
  }

  @Test
  void jsonOutputIsOneObjectWithRowsAndFailures() throws Exception {
    Run probe = run("probe", "hello-app", "-n", "200", "--xds", xds(), "-o", "json");
    assertThat(probe.code()).isEqualTo(1);
    JsonNode json = new ObjectMapper().readTree(probe.out());
    assertThat(json.get("requested").asInt()).isEqualTo(200);
    assertThat(json.get("finished").asInt()).isEqualTo(200);
    assertThat(json.get("via").asText()).isEqualTo("grpc");
    int failed = json.get("failed").asInt();
    assertThat(failed).isPositive();
    int requests = 0;
    java.math.BigDecimal percent = java.math.BigDecimal.ZERO;
    for (JsonNode row : json.get("rows")) {
      requests += row.get("requests").asInt();
      percent = percent.add(row.get("percent").decimalValue());
    }
    assertThat(requests).isEqualTo(200);
    assertThat(percent).isEqualByComparingTo("100.00");
    int counted = 0;
    for (JsonNode failure : json.get("failures")) {
      assertThat(failure.get("role").asText()).isEqualTo("canary");
      counted += failure.get("count").asInt();
    }
    assertThat(counted).isEqualTo(failed);
  }

  @Test
  void viaGatewaySendsTheAppsGatewayHostAndCountsTheRoleHeader() throws Exception {
    List<String> hosts = new CopyOnWriteArrayList<>();
    HttpServer standIn = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    standIn.createContext("/", exchange -> {
      hosts.add(exchange.getRequestHeaders().getFirst("Host"));
      exchange.getResponseHeaders().add("x-steelyard-role", "canary");
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    standIn.start();
    try {
      Run probe = run("probe", "hello-app", "--via", "gateway", "-n", "50", "--gateway",
          "127.0.0.1:" + standIn.getAddress().getPort(), "--admin", mesh.admin());
      assertThat(probe.code()).as(probe.out() + probe.err()).isZero();
      assertThat(probe.out()).startsWith("probe http://hello-app.example.com/ via gateway ")
          .containsPattern("canary\\s+50\\s+100.00%\\s+0");
      assertThat(hosts).hasSize(50).containsOnly("hello-app.example.com");
    } finally {
      standIn.stop(0);
    }
  }

  @Test
  void viaSidecarSendsTheAppNameAsHostAndCountsRolesFromARealBackend() {
    int main = mesh.backends.get(SubsetRole.MAIN).get(0).port();
    Run probe = run("probe", "hello-app", "--via", "sidecar", "-n", "40", "--sidecar",
        "127.0.0.1:" + main);
    assertThat(probe.code()).as(probe.out() + probe.err()).isZero();
    assertThat(probe.out()).startsWith("probe http://hello-app/ via sidecar 127.0.0.1:" + main)
        .containsPattern("main\\s+40\\s+100.00%\\s+0");

    Run dead = run("probe", "hello-app", "--via", "sidecar", "-n", "20", "--sidecar",
        deadCanary);
    assertThat(dead.code()).isEqualTo(1);
    assertThat(dead.out()).contains("20 requests, 20 failed").contains("endpoint unknown");
  }

  @Test
  void anInterruptedProbePrintsWhatItCountedSoFar() throws Exception {
    // A real process: the partial result is printed by a shutdown hook on Ctrl-C.
    ProcessBuilder builder = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), SteelyardCommand.class.getName(),
        "probe", "hello-app", "-n", "10000000", "--concurrency", "2", "--xds", xds());
    Process process = builder.start();
    java.util.concurrent.CompletableFuture<String> stdout =
        java.util.concurrent.CompletableFuture.supplyAsync(() -> {
          try {
            return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
    try {
      BufferedReader err = new BufferedReader(
          new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8));
      String progress;
      do {
        progress = err.readLine();
      } while (progress != null && !progress.startsWith("probe: "));
      assertThat(progress).as("progress on stderr").matches("probe: \\d+ of 10000000 done, "
          + "\\d+ failed");
      // SIGINT, as Ctrl-C sends; Process.destroy() would close the pipes we read.
      assertThat(new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start()
          .waitFor()).isZero();
      assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
      String out = stdout.get(10, TimeUnit.SECONDS);
      assertThat(out).containsPattern("^probe xds:///hello-app via " + xds()
          + ": interrupted after \\d+ of 10000000 requests, \\d+ failed\n")
          .contains("ROLE").contains("main");
    } finally {
      process.destroyForcibly();
    }
  }
}
