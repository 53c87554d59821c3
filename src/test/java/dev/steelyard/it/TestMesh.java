package dev.steelyard.it;

import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.source.FileAppCatalog;
import dev.steelyard.source.HealthCheckedCatalog;
import dev.steelyard.view.SubsetRole;
import dev.steelyard.demo.RoleBackend;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A real Steelyard on loopback for tests: role-answering gRPC backends on ephemeral ports, an
 * apps YAML file pointing at them, and the server with its data directory. Nothing is mocked.
 */
final class TestMesh implements AutoCloseable {

  final Path dir;
  final Path appsFile;
  final Path dataDir;
  final Map<SubsetRole, List<RoleBackend>> backends = new EnumMap<>(SubsetRole.class);
  private final HttpClient http = HttpClient.newHttpClient();
  private final Optional<String> token;
  private final String appExtraYaml;
  SteelyardServer server;
  /** How xDS clients must authenticate when the server is next started. */
  dev.steelyard.xds.XdsAuth xdsAuth = dev.steelyard.xds.XdsAuth.none();
  dev.steelyard.xds.XdsLimits xdsLimits = dev.steelyard.xds.XdsLimits.defaults();

  /** Starts {@code perRole} backends for each role of hello-app and a server on them. */
  TestMesh(Path dir, int[] perRole, Optional<String> token) throws Exception {
    this(dir, perRole, token, "");
  }

  /** As above, with {@code appExtraYaml} (indented keys) added to hello-app's entry. */
  TestMesh(Path dir, int[] perRole, Optional<String> token, String appExtraYaml)
      throws Exception {
    this.appExtraYaml = appExtraYaml;
    this.dir = dir;
    this.appsFile = dir.resolve("apps.yaml");
    this.dataDir = dir.resolve("data");
    this.token = token;
    for (SubsetRole role : SubsetRole.values()) {
      List<RoleBackend> servers = new ArrayList<>();
      for (int i = 0; i < perRole[role.ordinal()]; i++) {
        servers.add(RoleBackend.start("hello-app", role, "127.0.0.1", 0));
      }
      backends.put(role, servers);
    }
    Files.writeString(appsFile, appsYaml());
    start(0);
  }

  void start(int xdsPort) throws Exception {
    ServerConfig config = ServerConfig.defaults(dataDir).withBindHost("127.0.0.1")
        .withPorts(xdsPort, 0).withAdminToken(token)
        .withHoldoff(Duration.ofMillis(10), Duration.ofMillis(100))
        .withXdsAuth(xdsAuth)
        .withXdsLimits(xdsLimits);
    // Wrapped as serve wraps it, so that the apps file's health checks run.
    server = new SteelyardServer(config, HealthCheckedCatalog.wrap(
        FileAppCatalog.open(appsFile, Duration.ofMillis(50)))).start();
  }

  /** Stops the server only (backends keep running), as a control plane restart would. */
  void stopServer() {
    server.close();
  }

  String appsYaml() {
    StringBuilder yaml = new StringBuilder("""
        apps:
          - name: hello-app
            namespace: default
            port: 8080
            protocol: grpc
            gatewayHosts: [hello-app.example.com]
        """).append(appExtraYaml).append("    endpoints:\n");
    for (SubsetRole role : SubsetRole.values()) {
      yaml.append("      ").append(role.label()).append(": [");
      List<String> addresses = backends.get(role).stream()
          .map(server -> "\"127.0.0.1:" + server.port() + "\"").toList();
      yaml.append(String.join(", ", addresses)).append("]\n");
    }
    return yaml.toString();
  }

  String admin() {
    return "http://127.0.0.1:" + server.adminPort();
  }

  HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(admin() + path)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> put(String path, String body, Optional<String> bearer)
      throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(admin() + path))
        .header("content-type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(body));
    bearer.ifPresent(value -> request.header("Authorization", "Bearer " + value));
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> putSplit(String body) throws IOException, InterruptedException {
    return put("/api/v1/apps/default/hello-app/split", body, token);
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
    backends.values().forEach(servers -> servers.forEach(RoleBackend::close));
  }
}
