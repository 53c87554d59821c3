package dev.steelyard.envoy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.steelyard.demo.HttpProbe;
import dev.steelyard.demo.RoleBackend;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.source.FileAppCatalog;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.SubsetRole;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Steelyard on loopback with real Envoys in front of role backends: a gateway and a sidecar
 * started from the project's own bootstraps (only the control plane's and admin's ports differ,
 * as {@code steelyard bootstrap --xds --admin} sets them), an apps file the test rewrites, and
 * Steelyard's data directory, so the server can be stopped and started again on it.
 */
final class EnvoyMesh implements AutoCloseable {

  static final String GATEWAY_HOST_SUFFIX = ".example.com";

  /** An app of the apps file, with the backends of each role. */
  static final class App {
    final String name;
    final String protocol;
    final Map<SubsetRole, List<RoleBackend>> backends = new EnumMap<>(SubsetRole.class);

    App(String name, String protocol) {
      this.name = name;
      this.protocol = protocol;
      for (SubsetRole role : SubsetRole.values()) {
        backends.put(role, new ArrayList<>());
      }
    }

    String gatewayHost() {
      return name + GATEWAY_HOST_SUFFIX;
    }
  }

  final Path dir;
  final Path binary;
  final Path appsFile;
  final Path dataDir;
  final Map<String, App> apps = new LinkedHashMap<>();
  final int gatewayPort = freePort();
  final int sidecarPort = freePort();
  final HttpProbe http = new HttpProbe(16);
  private final HttpClient admin = HttpClient.newHttpClient();
  private final ObjectMapper json = new ObjectMapper();
  private final Duration xdsKeepalive;
  /** The Envoys authenticate, as the shipped configuration has them do. */
  final String xdsToken = java.util.UUID.randomUUID().toString();
  /** The sidecars' route layout: shared unless a test changes it before starting the server. */
  TranslatorSettings.SidecarRoutes sidecarRoutes = TranslatorSettings.SidecarRoutes.SHARED;
  /** How the server authenticates xDS clients: the token unless a test changes it. */
  dev.steelyard.xds.XdsAuth xdsAuth = dev.steelyard.xds.XdsAuth.token(xdsToken);
  private int xdsPort;
  SteelyardServer server;
  EnvoyProcess gateway;
  EnvoyProcess sidecar;

  EnvoyMesh(Path dir) throws Exception {
    this(dir, Duration.ofSeconds(30));
  }

  EnvoyMesh(Path dir, Duration xdsKeepalive) throws Exception {
    this.binary = RealEnvoy.binaryOrSkip();
    this.dir = dir;
    this.appsFile = dir.resolve("apps.yaml");
    this.dataDir = dir.resolve("data");
    this.xdsKeepalive = xdsKeepalive;
  }

  /** Adds an app with {@code perRole} backends of main, baseline and canary. */
  App addApp(String name, String protocol, int... perRole) throws IOException {
    App app = new App(name, protocol);
    for (SubsetRole role : SubsetRole.values()) {
      for (int i = 0; i < perRole[role.ordinal()]; i++) {
        app.backends.get(role).add(RoleBackend.start(name, role, "127.0.0.1", 0));
      }
    }
    apps.put(name, app);
    return app;
  }

  /** Writes the apps file from {@link #apps}; the server picks it up within its poll interval. */
  void writeApps() throws IOException {
    StringBuilder yaml = new StringBuilder("apps:\n");
    for (App app : apps.values()) {
      yaml.append("  - name: ").append(app.name).append('\n')
          .append("    port: 8080\n")
          .append("    protocol: ").append(app.protocol).append('\n')
          .append("    gatewayHosts: [").append(app.gatewayHost()).append("]\n")
          .append("    endpoints:\n");
      for (SubsetRole role : SubsetRole.values()) {
        List<String> addresses = app.backends.get(role).stream()
            .map(backend -> "\"127.0.0.1:" + backend.port() + "\"").toList();
        yaml.append("      ").append(role.label()).append(": [")
            .append(String.join(", ", addresses)).append("]\n");
      }
    }
    Path temp = appsFile.resolveSibling("apps.yaml.tmp");
    Files.writeString(temp, yaml);
    Files.move(temp, appsFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /** Starts Steelyard (on the same xDS port as before, after the first start). */
  void startServer() throws Exception {
    if (!Files.exists(appsFile)) {
      writeApps();
    }
    ServerConfig config = ServerConfig.defaults(dataDir).withBindHost("127.0.0.1")
        .withPorts(xdsPort, 0)
        .withTranslator(new TranslatorSettings(gatewayPort, sidecarPort, sidecarRoutes))
        .withHoldoff(Duration.ofMillis(10), Duration.ofMillis(100))
        .withXdsKeepalive(xdsKeepalive)
        .withXdsAuth(xdsAuth);
    server = new SteelyardServer(config,
        FileAppCatalog.open(appsFile, Duration.ofMillis(50))).start();
    xdsPort = server.xdsPort();
  }

  void stopServer() {
    server.close();
  }

  /** Starts the gateway and the sidecar Envoy and waits until both are ready. */
  void startEnvoys() throws Exception {
    gateway = startEnvoy(ProxyKind.GATEWAY, "gateway-1");
    sidecar = startEnvoy(ProxyKind.SIDECAR, "sidecar-1");
  }

  EnvoyProcess startEnvoy(ProxyKind kind, String node) throws Exception {
    return startEnvoy(kind, node, xdsToken);
  }

  /** An Envoy that sends {@code token} on its xDS stream (the server's, or a wrong one). */
  EnvoyProcess startEnvoy(ProxyKind kind, String node, String token) throws Exception {
    return startEnvoy(EnvoyBootstrap.local(kind).withXdsToken(java.util.Optional.of(token)),
        node);
  }

  /** An Envoy from {@code bootstrap}, pointed at this mesh's server, with an admin port. */
  EnvoyProcess startEnvoy(EnvoyBootstrap base, String node) throws Exception {
    EnvoyBootstrap bootstrap = base.withXds("127.0.0.1", xdsPort)
        .withAdmin("127.0.0.1", freePort());
    return EnvoyProcess.start(binary, bootstrap, node, dir.resolve("envoy"))
        .awaitReady(Duration.ofSeconds(30));
  }

  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  String adminUrl() {
    return "http://127.0.0.1:" + server.adminPort();
  }

  JsonNode getJson(String path) throws IOException, InterruptedException {
    HttpResponse<String> response = admin.send(HttpRequest.newBuilder(URI.create(adminUrl()
        + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("GET " + path + ": " + response.statusCode() + " " + response.body());
    }
    return json.readTree(response.body());
  }

  /** A counter or gauge from /metrics. */
  double metric(String name) throws IOException, InterruptedException {
    HttpResponse<String> response = admin.send(HttpRequest.newBuilder(URI.create(adminUrl()
        + "/metrics")).GET().build(), HttpResponse.BodyHandlers.ofString());
    return response.body().lines().filter(line -> line.startsWith(name + " "))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.indexOf(' ') + 1)))
        .findFirst().orElseThrow(() -> new IOException("no metric " + name));
  }

  /** PUTs a split; returns the app state the server answers with. */
  JsonNode putSplit(String app, String body) throws IOException, InterruptedException {
    HttpResponse<String> response = admin.send(HttpRequest.newBuilder(URI.create(adminUrl()
            + "/api/v1/apps/default/" + app + "/split"))
        .header("content-type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("PUT split " + body + ": " + response.statusCode() + " "
          + response.body());
    }
    return json.readTree(response.body());
  }

  /** The proxies Steelyard lists as connected, by node id. */
  Map<String, JsonNode> proxies() throws IOException, InterruptedException {
    Map<String, JsonNode> byNode = new LinkedHashMap<>();
    for (JsonNode proxy : getJson("/api/v1/proxies").path("proxies")) {
      byNode.put(proxy.path("nodeId").asText(), proxy);
    }
    return byNode;
  }

  /**
   * Whether every connected proxy of {@code kind} has ACKed the routes version the app state
   * {@code state} reports for that kind (the rollout engine's "applied" test).
   */
  static boolean allAcked(JsonNode state, ProxyKind kind) {
    for (JsonNode progress : state.path("progress")) {
      if (progress.path("proxyKind").asText().equalsIgnoreCase(kind.label())) {
        int connected = progress.path("proxiesConnected").asInt();
        return connected > 0 && progress.path("proxiesAcked").asInt() == connected;
      }
    }
    return false;
  }

  HttpProbe.Result viaGateway(String app, int requests) throws InterruptedException {
    return http.run(gatewayPort, apps.get(app).gatewayHost(), "/", requests,
        Duration.ofSeconds(10));
  }

  HttpProbe.Result viaSidecar(String host, int requests) throws InterruptedException {
    return http.run(sidecarPort, host, "/", requests, Duration.ofSeconds(10));
  }

  @Override
  public void close() {
    for (EnvoyProcess envoy : new EnvoyProcess[] {gateway, sidecar}) {
      if (envoy != null) {
        envoy.close();
      }
    }
    if (server != null) {
      server.close();
    }
    http.close();
    apps.values().forEach(app -> app.backends.values()
        .forEach(backends -> backends.forEach(RoleBackend::close)));
  }
}
