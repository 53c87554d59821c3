package dev.steelyard.it;

import dev.steelyard.demo.DemoWorkloads;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.source.AppCatalog;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A Steelyard in demo mode for rollout tests: {@link DemoWorkloads} as the catalog and the
 * workload driver (main with {@code mainReplicas} backends at v1), a data directory, and a
 * server that can be stopped and started again on the same xDS port while the backends keep
 * running, as a control plane restart would leave them.
 */
final class DemoRollouts implements AutoCloseable {

  static final AppKey APP = new AppKey("default", "hello-app");

  final DemoWorkloads workloads;
  final Path dataDir;
  final int xdsPort;
  private final HttpClient http = HttpClient.newHttpClient();
  SteelyardServer server;
  private Catalog catalog;

  private final java.util.function.UnaryOperator<ServerConfig> configure;

  DemoRollouts(Path dir, int mainReplicas) throws Exception {
    this(dir, mainReplicas, Map.of(), config -> config);
  }

  /**
   * With backends of the versions in {@code faults} misbehaving, and the server's configuration
   * changed by {@code configure} (load report interval, Prometheus).
   */
  DemoRollouts(Path dir, int mainReplicas,
      Map<String, dev.steelyard.demo.RoleBackend.Faults> faults,
      java.util.function.UnaryOperator<ServerConfig> configure) throws Exception {
    this.configure = configure;
    List<Endpoint> main = new ArrayList<>();
    for (int i = 0; i < mainReplicas; i++) {
      main.add(new Endpoint("127.0.0.1", freePort()));
    }
    workloads = DemoWorkloads.start(List.of(new AppSpec(APP, 8080, AppProtocol.GRPC,
        List.of("hello-app.example.com"), Map.of(SubsetRole.MAIN, main))), "test demo",
        faults);
    dataDir = dir.resolve("data");
    xdsPort = freePort();
    start();
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  void start() throws Exception {
    catalog = new Catalog(workloads);
    ServerConfig config = ServerConfig.defaults(dataDir).withBindHost("127.0.0.1")
        .withPorts(xdsPort, 0).withHoldoff(Duration.ofMillis(10), Duration.ofMillis(100));
    server = new SteelyardServer(configure.apply(config), catalog).withWorkloads(workloads)
        .start();
  }

  void stopServer() {
    server.close();
  }

  String admin() {
    return "http://127.0.0.1:" + server.adminPort();
  }

  String rolloutPath() {
    return "/api/v1/apps/default/hello-app/rollout";
  }

  HttpResponse<String> send(String method, String path, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(admin() + path))
        .header("content-type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> flow() throws IOException, InterruptedException {
    HttpResponse<String> response = send("GET", rolloutPath(), null);
    if (response.statusCode() != 200) {
      throw new IllegalStateException(response.statusCode() + " " + response.body());
    }
    return dev.steelyard.rollout.FlowStore.JSON.readValue(response.body(), Map.class);
  }

  @Override
  public void close() {
    if (server != null) {
      server.close();
    }
    workloads.close();
  }

  /** The demo workloads as a catalog that one server closes without stopping the backends. */
  private static final class Catalog implements AppCatalog {
    private final DemoWorkloads workloads;
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    Catalog(DemoWorkloads workloads) {
      this.workloads = workloads;
      workloads.onChange(() -> {
        if (!closed) {
          listeners.forEach(Runnable::run);
        }
      });
    }

    @Override
    public List<AppSpec> apps() {
      return workloads.apps();
    }

    @Override
    public String describe() {
      return workloads.describe();
    }

    @Override
    public Optional<String> lastError() {
      return Optional.empty();
    }

    @Override
    public void onChange(Runnable listener) {
      listeners.add(listener);
    }

    @Override
    public void close() {
      closed = true;
      listeners.clear();
    }
  }
}
