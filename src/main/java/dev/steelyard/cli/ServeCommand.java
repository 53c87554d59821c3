package dev.steelyard.cli;

import dev.steelyard.demo.DemoEnvoys;
import dev.steelyard.demo.DemoWorkloads;
import dev.steelyard.rollout.HookWorkloads;
import dev.steelyard.rollout.WorkloadDriver;
import dev.steelyard.rollout.kubernetes.CanaryRollouts;
import dev.steelyard.rollout.kubernetes.KubernetesWorkloads;
import dev.steelyard.rollout.kubernetes.RolloutEvents;
import dev.steelyard.rollout.kubernetes.RolloutLeaderElection;
import dev.steelyard.demo.RoleBackend;
import dev.steelyard.demo.RoleBackends;
import dev.steelyard.envoy.EnvoyBinary;
import dev.steelyard.server.KubernetesControlPlane;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.xds.XdsAuth;
import dev.steelyard.xds.XdsLimits;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.source.AppCatalog;
import dev.steelyard.source.AppFileParser;
import dev.steelyard.source.FileAppCatalog;
import dev.steelyard.source.HealthCheckedCatalog;
import dev.steelyard.source.FileReadErrors;
import dev.steelyard.source.InvalidAppFileException;
import dev.steelyard.source.StaticAppCatalog;
import dev.steelyard.source.kubernetes.KubernetesSourceSettings;
import dev.steelyard.translate.TranslatorSettings;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Run the control plane: xDS for Envoy and gRPC clients, and the admin API.")
final class ServeCommand implements Callable<Integer> {

  static final String DEMO_RESOURCE = "/steelyard/demo.yaml";

  @Option(names = "--config", paramLabel = "FILE",
      description = "Apps YAML file, re-read when it changes.")
  Path config;

  @Option(names = "--demo",
      description = "Start role-answering backends (gRPC and HTTP) on the loopback endpoints of "
          + "the apps, and an Envoy gateway and sidecar when an Envoy binary is found; without "
          + "--config, serve the embedded demo apps (server/demo.yaml).")
  boolean demo;

  @Option(names = "--demo-fault", paramLabel = "VERSION=FAULTS",
      description = "With --demo: backends of VERSION misbehave, so a judgment has something "
          + "to catch: errors=20%% fails a fifth of the requests, delay=30ms answers late; "
          + "e.g. --demo-fault v2-bad=errors=20%% (repeatable)")
  List<String> demoFaults = new ArrayList<>();

  @Option(names = "--prometheus", paramLabel = "URL",
      description = "The Prometheus server automatic judgments read PromQL metrics from, "
          + "e.g. http://prometheus:9090")
  java.net.URI prometheus;

  @Option(names = "--load-report-interval", defaultValue = "10s",
      converter = DurationConverter.class,
      description = "How often proxies send load reports (LRS), which are also the buckets "
          + "an analysis samples; default ${DEFAULT-VALUE}")
  Duration loadReportInterval;

  @Option(names = "--envoy", paramLabel = "PATH",
      description = "With --demo: the Envoy binary for the demo's gateway and sidecar. Default: "
          + "env STEELYARD_ENVOY, else envoy on PATH, else .envoy/bin/envoy (bin/install-envoy).")
  Path envoy;

  @Option(names = "--envoy-admin-port", defaultValue = "9901",
      description = "With --demo: the admin port of the demo's Envoy gateway; its sidecar's is "
          + "the next one. Default ${DEFAULT-VALUE}.")
  int envoyAdminPort;

  @Option(names = "--xds-port", defaultValue = "18000", description = "Default ${DEFAULT-VALUE}.")
  int xdsPort;

  @Option(names = "--admin-port", defaultValue = "18080",
      description = "Default ${DEFAULT-VALUE}.")
  int adminPort;

  @Option(names = "--bind", paramLabel = "HOST",
      description = "Address both servers bind to. Default: 0.0.0.0 for xDS; for the admin "
          + "API 0.0.0.0 with an admin token, else 127.0.0.1 (without a token, whoever reaches "
          + "the admin port can change traffic: give --bind to listen elsewhere anyway).")
  String bind;

  @Option(names = "--admin-bind", paramLabel = "HOST",
      description = "Address the admin API binds to, if not that of --bind.")
  String adminBind;

  @Option(names = "--max-connections", defaultValue = "" + ServerConfig.DEFAULT_MAX_CONNECTIONS,
      description = "Most open connections on the admin port; more are closed at once. "
          + "Default ${DEFAULT-VALUE}.")
  int maxConnections;

  @Option(names = "--max-xds-connections", defaultValue = "16384",
      description = "Most open connections on the xDS port (one per proxy); more are closed "
          + "at once. Default ${DEFAULT-VALUE}.")
  int maxXdsConnections;

  @Option(names = "--admin-idle-timeout", defaultValue = "PT60S",
      description = "Close an admin connection idle this long (ISO-8601). "
          + "Default ${DEFAULT-VALUE}.")
  Duration adminIdleTimeout;

  @Option(names = "--data-dir", defaultValue = "steelyard-data",
      description = "Where splits are persisted without --kubernetes, and rollout flows "
          + "(rollouts.json). Default ./${DEFAULT-VALUE}.")
  Path dataDir;

  @Option(names = "--gateway-port", defaultValue = "10080",
      description = "Port of the Envoy gateway's HTTP listener. Default ${DEFAULT-VALUE}.")
  int gatewayPort;

  @Option(names = "--sidecar-port", defaultValue = "15001",
      description = "Port of the Envoy sidecar's outbound listener on 127.0.0.1. "
          + "Default ${DEFAULT-VALUE}.")
  int sidecarPort;

  @Option(names = "--sidecar-routes", defaultValue = "shared", paramLabel = "LAYOUT",
      description = "How sidecars get their routes: 'shared' (one route configuration, a "
          + "virtual host per app) or 'per-app' (a route configuration per app, chosen by the "
          + "Host header: a weight step sends each sidecar that app's routes only). "
          + "Default ${DEFAULT-VALUE}.")
  String sidecarRoutes;

  @Option(names = "--admin-token-file", paramLabel = "FILE",
      description = "File holding the admin token (else env STEELYARD_ADMIN_TOKEN).")
  Path tokenFile;

  @Option(names = "--xds-token-file", paramLabel = "FILE",
      description = "File holding the bearer token xDS clients must send (else env "
          + "STEELYARD_XDS_TOKEN). Envoy sends it with initial_metadata (steelyard bootstrap "
          + "--xds-token-file).")
  Path xdsTokenFile;

  @Option(names = "--xds-tls-cert", paramLabel = "PEM",
      description = "Serve xDS over TLS with this certificate (with --xds-tls-key).")
  Path xdsTlsCert;

  @Option(names = "--xds-tls-key", paramLabel = "PEM",
      description = "The private key of --xds-tls-cert (PKCS#8 PEM).")
  Path xdsTlsKey;

  @Option(names = "--xds-tls-client-ca", paramLabel = "PEM",
      description = "With --xds-tls-cert: require client certificates signed by this CA; a "
          + "proxy's node id must be a name (DNS/URI SAN or CN) of its certificate.")
  Path xdsTlsClientCa;

  @Option(names = "--poll-interval", defaultValue = "PT1S",
      description = "How often the config file is checked (ISO-8601). Default ${DEFAULT-VALUE}.")
  Duration pollInterval;

  @Option(names = "--xds-keepalive", defaultValue = "PT30S",
      description = "Ping an xDS connection silent for this long; close it when the ping is "
          + "not answered within as long again (ISO-8601). Default ${DEFAULT-VALUE}.")
  Duration xdsKeepalive;

  @Option(names = "--workload-hook", paramLabel = "CMD",
      description = "With --config: the command rollout flows run to change a workload, as "
          + "CMD APP ROLE VERSION REPLICAS (its output is logged); the flow then waits until the "
          + "apps file lists that many ready endpoints for the role. Without it, flows wait for "
          + "you to change the apps file and say what they wait for. (--demo without --config "
          + "starts and stops local backends itself.)")
  String workloadHook;

  @Option(names = "--rollouts",
      description = "With --kubernetes: run rollout flows on Deployments (<main>, "
          + "<main>-baseline, <main>-canary). Replicas elect one driver with the Lease "
          + "steelyard-rollouts (in env POD_NAMESPACE, else steelyard-system); flows are kept "
          + "in --data-dir, which replicas must share (a ReadWriteMany volume). Applying a "
          + "CanaryRollout resource (k8s/crd/canaryrollout.yaml) starts a flow too.")
  boolean kubernetesRollouts;

  @Option(names = "--rollout-container", paramLabel = "NAME",
      description = "With --rollouts: the container whose image a flow changes; default the "
          + "only container.")
  String rolloutContainer;

  @Option(names = "--allow-empty-apps",
      description = "Let a reload of the apps file that lists no apps withdraw them all; "
          + "refused otherwise.")
  boolean allowEmptyApps;

  @Option(names = "--kubernetes",
      description = "Discover apps from pods and Services and keep splits in TrafficSplit "
          + "resources (in-cluster config, else ~/.kube/config or KUBECONFIG).")
  boolean kubernetes;

  @Option(names = "--namespaces", split = ",", paramLabel = "NS",
      description = "With --kubernetes: namespaces to watch, comma-separated. Default all.")
  List<String> namespaces = new ArrayList<>();

  @Option(names = "--app-label", defaultValue = "app",
      description = "With --kubernetes: the pod label naming the app. Default ${DEFAULT-VALUE}.")
  String appLabel;

  @Option(names = "--role-label", defaultValue = "app-role",
      description = "With --kubernetes: the pod label naming the role (main, baseline, canary). "
          + "Default ${DEFAULT-VALUE}.")
  String roleLabel;

  @Option(names = "--replica-id",
      description = "With --kubernetes: this replica's name in TrafficSplit status. "
          + "Default: env POD_NAME, else the host name.")
  String replicaId;

  @Override
  public Integer call() throws Exception {
    if (kubernetes) {
      return serveKubernetes();
    }
    AppCatalog catalog;
    ServerConfig serverConfig;
    try {
      serverConfig = serverConfig();
      catalog = catalog();
    } catch (InvalidAppFileException | IOException e) {
      System.err.println("steelyard: " + e.getMessage());
      return SteelyardCommand.BAD_INPUT;
    }
    RoleBackends backends = null;
    DemoWorkloads demoWorkloads = null;
    SteelyardServer server;
    try {
      WorkloadDriver workloads;
      if (demo && config == null) {
        // The demo's own apps: their backends are workloads the rollout engine can change.
        demoWorkloads = DemoWorkloads.start(catalog.apps(), catalog.describe()
            + ", demo backends per role and version", demoFaults());
        catalog.close();
        catalog = demoWorkloads;
        workloads = demoWorkloads;
      } else {
        backends = demo ? RoleBackends.forLoopbackEndpoints(catalog.apps()) : null;
        workloads = new HookWorkloads(catalog, Optional.ofNullable(workloadHook)
            .filter(cmd -> !cmd.isBlank()));
      }
      server = new SteelyardServer(serverConfig, catalog).withWorkloads(workloads).start();
    } catch (Exception e) {
      if (backends != null) {
        backends.close();
      }
      if (demoWorkloads != null) {
        demoWorkloads.close();
      }
      catalog.close();
      System.err.println("steelyard: cannot start: " + e.getMessage());
      return 1;
    }
    RoleBackends demoBackends = backends;
    DemoWorkloads demoRoles = demoWorkloads;
    // The hook comes first: a Ctrl-C while the demo's Envoys start must stop them too.
    DemoEnvoys demoEnvoys = demo ? new DemoEnvoys() : null;
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (demoEnvoys != null) {
        demoEnvoys.close();
      }
      server.close();
      if (demoBackends != null) {
        demoBackends.close();
      }
      if (demoRoles != null) {
        demoRoles.close();
      }
      stopped.countDown();
    }, "steelyard-shutdown"));
    DemoEnvoys envoys = demoEnvoys != null
        && startDemoEnvoys(demoEnvoys, server, serverConfig.xdsAuth()) ? demoEnvoys
        : null;
    System.out.println("steelyard: xDS on :" + server.xdsPort() + ", admin API on http://"
        + hostForUrl(serverConfig.adminBindHost()) + ":" + server.adminPort() + ", apps from "
        + catalog.describe());
    if (demoBackends != null || demoRoles != null) {
      System.out.println("steelyard: demo backends answering their role on "
          + (demoBackends != null ? demoBackends.size() : demoRoles.size())
          + " loopback endpoint(s); try: bin/steelyard probe hello-app"
          + (server.xdsPort() == 18000 ? "" : " --xds 127.0.0.1:" + server.xdsPort()));
    }
    if (envoys != null) {
      System.out.println("steelyard: demo Envoy gateway on :" + gatewayPort + " and sidecar on "
          + "127.0.0.1:" + sidecarPort + " (admin :" + envoyAdminPort + ", :"
          + (envoyAdminPort + 1) + "; logs in "
          + envoys.envoys().get(0).log().getParent() + "); try: curl -s -H 'Host: "
          + "hello-app.example.com' http://127.0.0.1:" + gatewayPort + "/ or "
          + "bin/steelyard probe --via gateway hello-app"
          + (gatewayPort == 10080 ? "" : " --gateway 127.0.0.1:" + gatewayPort)
          + (server.adminPort() == 18080 ? ""
              : " --admin http://127.0.0.1:" + server.adminPort()));
    }
    stopped.await();
    return 0;
  }

  /** Starts the demo's gateway and sidecar Envoy; false (and why) when they could not run. */
  private boolean startDemoEnvoys(DemoEnvoys envoys, SteelyardServer server, XdsAuth auth) {
    if (auth.tls().isPresent()) {
      System.out.println("steelyard: the demo runs without Envoy: its Envoys connect in "
          + "plaintext, and --xds-tls-cert makes the xDS port TLS");
      return false;
    }
    Optional<Path> binary = EnvoyBinary.find(Optional.ofNullable(envoy));
    if (binary.isEmpty()) {
      System.out.println("steelyard: the demo runs without Envoy: " + (envoy != null
          ? "--envoy " + envoy + " is not an executable file" : EnvoyBinary.HOW_TO_GET));
      return false;
    }
    try {
      envoys.start(binary.get(), server.xdsPort(), auth.token(), envoyAdminPort,
          dataDir.toAbsolutePath().resolve("envoy"));
      return !envoys.envoys().isEmpty();
    } catch (IOException | RuntimeException e) {
      envoys.close();
      System.out.println("steelyard: the demo runs without Envoy: " + e.getMessage());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  ServerConfig serverConfig() throws IOException {
    if (!demo && !demoFaults.isEmpty()) {
      throw new IOException("--demo-fault is for --demo's backends");
    }
    if (maxConnections < 1) {
      throw new IOException("--max-connections must be at least 1, got " + maxConnections);
    }
    if (maxXdsConnections < 1) {
      throw new IOException("--max-xds-connections must be at least 1, got "
          + maxXdsConnections);
    }
    if (adminIdleTimeout.isNegative() || adminIdleTimeout.isZero()) {
      throw new IOException("--admin-idle-timeout must be positive, got " + adminIdleTimeout);
    }
    TranslatorSettings.SidecarRoutes routesLayout;
    try {
      routesLayout = TranslatorSettings.SidecarRoutes.of(sidecarRoutes);
    } catch (IllegalArgumentException e) {
      throw new IOException("--" + e.getMessage());
    }
    Optional<String> token = token();
    // Without a token the admin API takes changes from anyone who reaches it: only loopback
    // reaches it then, unless an address is given on purpose (SteelyardServer warns loudly).
    String xdsHost = bind != null ? bind : "0.0.0.0";
    String adminHost = adminBind != null ? adminBind
        : bind != null ? bind
        : token.isPresent() ? "0.0.0.0" : "127.0.0.1";
    return ServerConfig.defaults(dataDir)
        .withPorts(xdsPort, adminPort)
        .withBindHost(xdsHost)
        .withAdminBindHost(adminHost)
        .withTranslator(new TranslatorSettings(gatewayPort, sidecarPort, routesLayout))
        .withAdminToken(token)
        .withXdsKeepalive(xdsKeepalive)
        .withMaxConnections(maxConnections)
        .withAdminIdleTimeout(adminIdleTimeout)
        .withXdsAuth(xdsAuth())
        .withXdsLimits(XdsLimits.defaults().withMaxConnections(maxXdsConnections))
        .withAnalysis(analysis());
  }

  private ServerConfig.Analysis analysis() throws IOException {
    if (loadReportInterval.compareTo(Duration.ofSeconds(1)) < 0
        || loadReportInterval.compareTo(Duration.ofMinutes(10)) > 0) {
      throw new IOException("--load-report-interval must be 1s to 10m, got "
          + DurationConverter.describe(loadReportInterval));
    }
    if (prometheus != null && (prometheus.getScheme() == null
        || !List.of("http", "https").contains(prometheus.getScheme()))) {
      throw new IOException("--prometheus must be an http(s) URL, got " + prometheus);
    }
    return ServerConfig.Analysis.DEFAULTS.withLoadInterval(loadReportInterval)
        .withPrometheus(Optional.ofNullable(prometheus));
  }

  /** --demo-fault VERSION=errors=20%,delay=30ms, per version. */
  Map<String, RoleBackend.Faults> demoFaults() throws IOException {
    Map<String, RoleBackend.Faults> faults = new java.util.LinkedHashMap<>();
    for (String fault : demoFaults) {
      int equals = fault.indexOf('=');
      if (equals <= 0) {
        throw new IOException("--demo-fault " + fault + ": expected VERSION=errors=20%,"
            + "delay=30ms");
      }
      double errors = 0;
      long delay = 0;
      for (String part : fault.substring(equals + 1).split(",")) {
        String[] kv = part.trim().split("=", 2);
        try {
          if (kv.length == 2 && kv[0].equals("errors") && kv[1].endsWith("%")) {
            errors = Double.parseDouble(kv[1].substring(0, kv[1].length() - 1)) / 100;
          } else if (kv.length == 2 && kv[0].equals("delay")) {
            delay = new DurationConverter().convert(kv[1]).toMillis();
          } else {
            throw new IllegalArgumentException("unknown");
          }
          faults.put(fault.substring(0, equals), new RoleBackend.Faults(errors, delay));
        } catch (RuntimeException e) {
          throw new IOException("--demo-fault " + fault + ": '" + part + "' is not errors=N% "
              + "(0 to 100) or delay=DURATION");
        }
      }
    }
    return faults;
  }

  private XdsAuth xdsAuth() throws IOException {
    Optional<String> xdsToken = secret("xDS token file", xdsTokenFile, "STEELYARD_XDS_TOKEN");
    if ((xdsTlsCert == null) != (xdsTlsKey == null)) {
      throw new IOException("--xds-tls-cert and --xds-tls-key go together");
    }
    if (xdsTlsClientCa != null && xdsTlsCert == null) {
      throw new IOException("--xds-tls-client-ca needs --xds-tls-cert and --xds-tls-key");
    }
    Optional<XdsAuth.Tls> tls = xdsTlsCert == null ? Optional.empty()
        : Optional.of(new XdsAuth.Tls(xdsTlsCert, xdsTlsKey, Optional.ofNullable(xdsTlsClientCa)));
    return new XdsAuth(xdsToken, tls);
  }

  private Integer serveKubernetes() throws Exception {
    if (config != null || demo) {
      System.err.println("steelyard: --kubernetes takes apps from the cluster; "
          + "drop --config and --demo");
      return SteelyardCommand.BAD_INPUT;
    }
    KubernetesSourceSettings settings;
    try {
      settings = new KubernetesSourceSettings(appLabel, roleLabel, namespaces);
    } catch (IllegalArgumentException e) {
      System.err.println("steelyard: " + e.getMessage());
      return SteelyardCommand.BAD_INPUT;
    }
    String replica = replicaId != null ? replicaId
        : Optional.ofNullable(System.getenv("POD_NAME")).filter(v -> !v.isBlank())
            .orElseGet(ServeCommand::hostName);
    ServerConfig config;
    try {
      config = serverConfig();
    } catch (IOException e) {
      System.err.println("steelyard: " + e.getMessage());
      return SteelyardCommand.BAD_INPUT;
    }
    KubernetesClient client = new KubernetesClientBuilder().build();
    KubernetesWorkloads workloads = new KubernetesWorkloads(client, appLabel, roleLabel,
        Optional.ofNullable(rolloutContainer));
    KubernetesControlPlane plane;
    try {
      KubernetesControlPlane.checkReachable(client, Duration.ofSeconds(3));
      plane = KubernetesControlPlane.start(client, config, settings, replica,
          kubernetesRollouts ? Optional.of(workloads) : Optional.empty());
    } catch (IOException e) {
      client.close();
      System.err.println("steelyard: " + e.getMessage());
      return 1;
    }
    RolloutLeaderElection election = !kubernetesRollouts ? null
        : RolloutLeaderElection.start(client, Optional.ofNullable(System.getenv("POD_NAMESPACE"))
            .filter(v -> !v.isBlank()).orElse("steelyard-system"), replica,
            plane.server().rollouts().orElseThrow(), Duration.ofSeconds(15));
    RolloutEvents events = !kubernetesRollouts ? null
        : new RolloutEvents(client, workloads, replica);
    if (events != null) {
      plane.server().rollouts().orElseThrow().withHistoryListener(events);
    }
    CanaryRollouts canaryRollouts = !kubernetesRollouts ? null
        : CanaryRollouts.start(client, plane.server().rollouts().orElseThrow(), 1_000,
            settings.namespaces());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      if (canaryRollouts != null) {
        canaryRollouts.close();
      }
      if (events != null) {
        events.close();
      }
      if (election != null) {
        election.close();
      }
      plane.close();
      client.close();
      stopped.countDown();
    }, "steelyard-shutdown"));
    System.out.println("steelyard: xDS on :" + plane.server().xdsPort() + ", admin API on http://"
        + hostForUrl(config.adminBindHost()) + ":" + plane.server().adminPort()
        + ", apps from Kubernetes ("
        + settings.describeNamespaces() + "), replica " + replica);
    stopped.await();
    return 0;
  }

  private static String hostForUrl(String host) {
    return host.contains(":") ? "[" + host + "]" : host;
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "steelyard";
    }
  }

  private AppCatalog catalog() throws IOException, InvalidAppFileException {
    if (config != null) {
      return HealthCheckedCatalog.wrap(FileAppCatalog.open(config, pollInterval, allowEmptyApps));
    }
    if (!demo) {
      throw new IOException("give the apps file with --config FILE, or run --demo");
    }
    try (InputStream in = ServeCommand.class.getResourceAsStream(DEMO_RESOURCE)) {
      if (in == null) {
        throw new IOException("the embedded demo config " + DEMO_RESOURCE + " is missing");
      }
      String yaml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return new StaticAppCatalog(AppFileParser.parse(yaml), "embedded demo config");
    }
  }

  private Optional<String> token() throws IOException {
    return secret("admin token file", tokenFile, "STEELYARD_ADMIN_TOKEN");
  }

  /** A token from {@code file} if given, else from the environment variable {@code env}. */
  private static Optional<String> secret(String what, Path file, String env) throws IOException {
    if (file != null) {
      String token;
      try {
        token = Files.readString(file).strip();
      } catch (IOException e) {
        throw new IOException(FileReadErrors.describe(what, file, e), e);
      }
      if (token.isEmpty()) {
        // Asked for a token but got none: fail closed rather than let anyone in.
        throw new IOException(what + " " + file + " is empty");
      }
      return Optional.of(token);
    }
    return Optional.ofNullable(System.getenv(env)).filter(value -> !value.isBlank());
  }
}
