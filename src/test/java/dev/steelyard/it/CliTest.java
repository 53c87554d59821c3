package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.cli.SteelyardCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The CLI against a running server, in-process, with its output and exit codes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliTest {

  private TestMesh mesh;

  private record Run(int code, String out, String err) {}

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    mesh = new TestMesh(dir, new int[] {1, 1, 1}, Optional.of("tok"));
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

  @Test
  void splitSetShowsTheNewStateAndProbeSeesIt() {
    Run set = run("split", "set", "hello-app", "--mode", "deploy", "--weight", "25",
        "--admin", mesh.admin(), "--token", "tok");
    assertThat(set.code()).as(set.err()).isZero();
    assertThat(set.out()).contains("default/hello-app  mesh: deploy 25")
        .containsPattern("main\\s+50.00%\\s+50.00%")
        .containsPattern("canary\\s+25.00%\\s+25.00%");

    Run probe = run("probe", "hello-app", "-n", "2000",
        "--xds", "127.0.0.1:" + mesh.server.xdsPort());
    assertThat(probe.code()).as(probe.err()).isZero();
    assertThat(probe.out()).startsWith("probe xds:///hello-app via 127.0.0.1:")
        .contains("2000 requests").contains("main").contains("baseline").contains("canary")
        .doesNotContain("error");
    // 5 sigma of 2000 draws at p = 0.25 is about 97 requests, about 4.9 points.
    double canaryPercent = Double.parseDouble(probe.out().lines()
        .filter(line -> line.trim().startsWith("canary")).findFirst().orElseThrow()
        .replaceAll(".*\\s(\\d+\\.\\d+)%.*", "$1"));
    assertThat(canaryPercent).isBetween(25 - 4.9, 25 + 4.9);

    Run get = run("split", "get", "default/hello-app", "--admin", mesh.admin());
    assertThat(get.code()).isZero();
    assertThat(get.out()).contains("mesh: deploy 25");

    try (XdsTestClient client = new XdsTestClient(mesh.server.xdsPort(), "cli-client",
        "hello-app")) {
      client.call();
      Run status = run("status", "--admin", mesh.admin());
      assertThat(status.code()).isZero();
      assertThat(status.out()).contains("admin token required")
          .contains("proxies: 1 connected")
          .containsPattern("cli-client\\s+grpc\\s+acked \\{clusters=");
    }
  }

  @Test
  void badInputExitsWithTwoAndAOneLineReason() {
    Run range = run("split", "set", "hello-app", "--mode", "test", "--weight", "120",
        "--admin", mesh.admin(), "--token", "tok");
    assertThat(range.code()).isEqualTo(2);
    assertThat(range.err().strip()).isEqualTo(
        "steelyard: canaryWeight 120 is out of range for mode test: 0 <= n <= 100");

    Run unknown = run("split", "get", "nope", "--admin", mesh.admin());
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err().strip()).isEqualTo("steelyard: unknown app default/nope");

    Run noToken = run("split", "set", "hello-app", "--mode", "off", "--admin", mesh.admin());
    assertThat(noToken.code()).isEqualTo(2);
    assertThat(noToken.err()).contains("Authorization: Bearer");

    Run nothing = run("split", "set", "hello-app", "--admin", mesh.admin());
    assertThat(nothing.code()).isEqualTo(2);
    assertThat(nothing.err().strip()).isEqualTo("steelyard: give --mode (off, test or deploy), "
        + "or --gateway-mode or --gateway-follows-mesh to change only the gateway split");
    Run gatewayWeightAlone = run("split", "set", "hello-app", "--mode", "test", "--weight", "1",
        "--gateway-weight", "5", "--admin", mesh.admin(), "--token", "tok");
    assertThat(gatewayWeightAlone.code()).isEqualTo(2);
    assertThat(gatewayWeightAlone.err().strip())
        .isEqualTo("steelyard: --gateway-weight needs --gateway-mode");
  }

  @Test
  void aModeWithoutItsWeightIsAnError() {
    for (String mode : new String[] {"test", "deploy"}) {
      Run meshAlone = run("split", "set", "hello-app", "--mode", mode, "--admin", mesh.admin(),
          "--token", "tok");
      assertThat(meshAlone.code()).as(mode).isEqualTo(2);
      assertThat(meshAlone.err().strip()).isEqualTo("steelyard: --mode " + mode
          + " needs --weight N (test: 0 <= N <= 100, deploy: 0 <= N <= 50)");
      Run gatewayAlone = run("split", "set", "hello-app", "--mode", "off", "--gateway-mode",
          mode, "--admin", mesh.admin(), "--token", "tok");
      assertThat(gatewayAlone.code()).as(mode).isEqualTo(2);
      assertThat(gatewayAlone.err().strip()).startsWith("steelyard: --gateway-mode " + mode
          + " needs --gateway-weight N");
    }
    Run weightAlone = run("split", "set", "hello-app", "--weight", "3", "--gateway-mode", "off",
        "--admin", mesh.admin(), "--token", "tok");
    assertThat(weightAlone.code()).isEqualTo(2);
    assertThat(weightAlone.err().strip()).isEqualTo("steelyard: --weight needs --mode");
  }

  @Test
  void theGatewaySplitChangesAloneWithoutRestatingTheMeshOne() {
    assertThat(run("split", "set", "hello-app", "--mode", "test", "--weight", "10",
        "--gateway-follows-mesh", "--admin", mesh.admin(), "--token", "tok").code()).isZero();
    Run gateway = run("split", "set", "hello-app", "--gateway-mode", "deploy",
        "--gateway-weight", "5", "--admin", mesh.admin(), "--token", "tok");
    assertThat(gateway.code()).as(gateway.err()).isZero();
    assertThat(gateway.out()).contains("default/hello-app  mesh: test 10  gateway: deploy 5\n");
    Run follow = run("split", "set", "hello-app", "--gateway-follows-mesh",
        "--admin", mesh.admin(), "--token", "tok");
    assertThat(follow.code()).as(follow.err()).isZero();
    assertThat(follow.out()).contains("mesh: test 10  gateway: test 10 (follows mesh)");
  }

  @Test
  void aMalformedOrConflictingAppArgumentIsNamed() {
    Run conflicting = run("split", "set", "default/hello-app", "-n", "other", "--mode", "off",
        "--admin", mesh.admin(), "--token", "tok");
    assertThat(conflicting.code()).isEqualTo(2);
    assertThat(conflicting.err().strip()).isEqualTo("steelyard: APP 'default/hello-app' is in "
        + "namespace default but -n says other; give the namespace once");
    assertThat(run("split", "get", "default/hello-app", "-n", "default", "--admin",
        mesh.admin()).code()).as("the same namespace twice does not conflict").isZero();

    for (String app : new String[] {"default/hello-app/x", "/hello-app", "default/", "Hello"}) {
      Run malformed = run("split", "get", app, "--admin", mesh.admin());
      assertThat(malformed.code()).as(app).isEqualTo(2);
      assertThat(malformed.err().strip()).as(app).isEqualTo("steelyard: APP '" + app
          + "' must be name or namespace/name, each a DNS label (lower-case letters, digits "
          + "and '-')");
    }
  }

  @Test
  void serveRefusesAnEmptyTokenFileAndABadAppsFile(@TempDir Path dir) throws Exception {
    Path empty = java.nio.file.Files.writeString(dir.resolve("token"), "\n");
    Run noToken = run("serve", "--config", mesh.appsFile.toString(), "--admin-token-file",
        empty.toString(), "--xds-port", "0", "--admin-port", "0", "--data-dir",
        dir.resolve("data").toString());
    assertThat(noToken.code()).isEqualTo(2);

    Path bad = java.nio.file.Files.writeString(dir.resolve("apps.yaml"), "apps: [{name: x}]");
    Run badApps = run("serve", "--config", bad.toString(), "--xds-port", "0",
        "--admin-port", "0", "--data-dir", dir.resolve("data").toString());
    assertThat(badApps.code()).isEqualTo(2);
  }

  @Test
  void serveNamesAMissingFileAndWhatIsWrongWithIt(@TempDir Path dir) {
    Path data = dir.resolve("data");
    Run noConfig = runServe("serve", "--config", dir.resolve("nope.yaml").toString(),
        "--xds-port", "0", "--admin-port", "0", "--data-dir", data.toString());
    assertThat(noConfig.code()).isEqualTo(2);
    assertThat(noConfig.err()).contains(
        "steelyard: apps file " + dir.resolve("nope.yaml") + ": no such file");

    Run noTokenFile = runServe("serve", "--config", mesh.appsFile.toString(),
        "--admin-token-file", dir.resolve("no-token").toString(), "--xds-port", "0",
        "--admin-port", "0", "--data-dir", data.toString());
    assertThat(noTokenFile.code()).isEqualTo(2);
    assertThat(noTokenFile.err()).contains(
        "steelyard: admin token file " + dir.resolve("no-token") + ": no such file");
  }

  @Test
  void serveKubernetesWithoutAClusterSaysSoInOneLine(@TempDir Path dir) {
    // fabric8 reads these system properties before KUBECONFIG and the in-cluster defaults.
    System.setProperty("kubernetes.master", "https://127.0.0.1:1");
    System.setProperty("kubeconfig", dir.resolve("no-kubeconfig").toString());
    try {
      Run serve = runServe("serve", "--kubernetes", "--xds-port", "0", "--admin-port", "0",
          "--data-dir", dir.resolve("data").toString());
      assertThat(serve.code()).isEqualTo(1);
      assertThat(serve.err()).isEqualTo("steelyard: no Kubernetes API server reachable at "
          + "https://127.0.0.1:1/ (ConnectException: Connection refused); set KUBECONFIG or "
          + "run in a cluster\n");
    } finally {
      System.clearProperty("kubernetes.master");
      System.clearProperty("kubeconfig");
    }
  }

  @Test
  void serveOffersToAllowAnEmptyAppsFile() {
    Run help = run("serve", "--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("--allow-empty-apps");
  }

  /** {@code serve} reports start-up errors on the process's stderr, not picocli's writer. */
  private Run runServe(String... args) {
    java.io.PrintStream stderr = System.err;
    java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(captured, true,
        java.nio.charset.StandardCharsets.UTF_8));
    try {
      Run run = run(args);
      return new Run(run.code(), run.out(), run.err()
          + captured.toString(java.nio.charset.StandardCharsets.UTF_8));
    } finally {
      System.setErr(stderr);
    }
  }

  @Test
  void splitSetWaitReturnsOnceTheConnectedProxiesAckedAndTimesOutNamingTheKindThatLags()
      throws Exception {
    try (XdsTestClient client = new XdsTestClient(mesh.server.xdsPort(), "wait-client",
        "hello-app")) {
      client.call();
      Run set = run("split", "set", "hello-app", "--mode", "test", "--weight", "3", "--wait",
          "--admin", mesh.admin(), "--token", "tok");
      assertThat(set.code()).as(set.err()).isZero();
      assertThat(set.out()).contains("waiting for ACKs: ")
          .containsPattern("waiting for ACKs: .*grpc 1/1")
          .endsWith("applied: every connected proxy ACKed the new routes\n");

      // A sidecar that asks for its listener and never ACKs anything.
      try (RawAdsStream silent = new RawAdsStream(mesh.server.xdsPort(), "silent-sidecar",
          "sidecar")) {
        silent.request("type.googleapis.com/envoy.config.listener.v3.Listener",
            java.util.List.of());
        assertThat(silent.next(10)).isNotNull();
        Run lagging = run("split", "set", "hello-app", "--mode", "test", "--weight", "4",
            "--wait", "--timeout", "1s", "--admin", mesh.admin(), "--token", "tok");
        assertThat(lagging.code()).isEqualTo(1);
        assertThat(lagging.out()).containsPattern("waiting for ACKs: .*sidecar 0/1");
        assertThat(lagging.err().strip()).matches("steelyard: timed out after 1s waiting for "
            + "ACKs; lagging: sidecar 0 of 1 acked routes [0-9a-f]{16}");
      }
    }
  }

  @Test
  void jsonOutputIsTheApiJson() throws Exception {
    Run get = run("split", "get", "hello-app", "-o", "json", "--admin", mesh.admin());
    assertThat(get.code()).as(get.err()).isZero();
    dev.steelyard.admin.v1.AppState.Builder state = dev.steelyard.admin.v1.AppState.newBuilder();
    com.google.protobuf.util.JsonFormat.parser().merge(get.out(), state);
    assertThat(state.getName()).isEqualTo("hello-app");
    assertThat(state.getSubsetsCount()).isEqualTo(3);

    Run set = run("split", "set", "hello-app", "--mode", "off", "-o", "json",
        "--admin", mesh.admin(), "--token", "tok");
    assertThat(set.code()).as(set.err()).isZero();
    com.google.protobuf.util.JsonFormat.parser().merge(set.out(),
        dev.steelyard.admin.v1.AppState.newBuilder());

    Run status = run("status", "-o", "json", "--admin", mesh.admin());
    assertThat(status.code()).as(status.err()).isZero();
    com.fasterxml.jackson.databind.JsonNode json =
        new com.fasterxml.jackson.databind.ObjectMapper().readTree(status.out());
    assertThat(json.at("/status/authRequired").asBoolean()).isTrue();
    assertThat(json.at("/apps/0/name").asText()).isEqualTo("hello-app");
    assertThat(json.get("proxies").isArray()).isTrue();
  }

  @Test
  void anUnreachableServerExitsWithOne() {
    Run down = run("status", "--admin", "http://127.0.0.1:1");
    assertThat(down.code()).isEqualTo(1);
    assertThat(down.err()).contains("cannot reach the admin API");
  }
}
