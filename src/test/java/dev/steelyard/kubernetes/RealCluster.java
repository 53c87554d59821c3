package dev.steelyard.kubernetes;

import dev.steelyard.kubernetes.KubeTestEnv.Binaries;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A real Kubernetes API: etcd and kube-apiserver (built by {@code bin/build-k8s-testenv}) on
 * loopback, with certificates and a service-account key generated here, RBAC authorization, and
 * the project's manifests from {@code k8s/} applied (the CRD, the namespace, the shipped
 * ServiceAccount, ClusterRole and binding, the Deployments and Services). Everything lives in one
 * temporary directory that {@link #close} removes.
 *
 * <p>There is no controller-manager, scheduler or kubelet: Deployments create no pods, namespaces
 * are never finalized, and tests create pods themselves and set their status through the
 * {@code pods/status} subresource, as a kubelet would ({@link #createPod}). The ServiceAccount
 * admission plugin is off because no controller creates the {@code default} ServiceAccounts;
 * tokens for the shipped ServiceAccount come from the TokenRequest API, as a kubelet gets them.
 */
public final class RealCluster implements AutoCloseable {

  /** The control plane's identity, from {@code k8s/control-plane/rbac.yaml}. */
  public static final String SYSTEM_NAMESPACE = "steelyard-system";
  public static final String SERVICE_ACCOUNT = "steelyard";
  public static final Path KUSTOMIZATION = Path.of("k8s/kustomization.yaml");
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
  private static final AtomicInteger NAMESPACES = new AtomicInteger();

  private final Binaries binaries;
  private final Path dir;
  private final String adminToken = UUID.randomUUID().toString();
  private final int etcdPort;
  private final int etcdPeerPort;
  private final int apiPort;
  private final HttpClient https;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(2)).build();
  private final List<KubernetesClient> clients = new ArrayList<>();
  private Process etcd;
  private Process apiServer;
  private KubernetesClient admin;
  private String versions;

  private RealCluster(Binaries binaries, Path dir) throws Exception {
    this.binaries = binaries;
    this.dir = dir;
    etcdPort = freePort();
    etcdPeerPort = freePort();
    apiPort = freePort();
    generateCertificates();
    Files.writeString(dir.resolve("tokens.csv"),
        adminToken + ",steelyard-test-admin,steelyard-test-admin,\"system:masters\"\n");
    https = HttpClient.newBuilder().sslContext(trusting(dir.resolve("ca.crt")))
        .connectTimeout(Duration.ofSeconds(2)).build();
  }

  /**
   * Starts etcd and kube-apiserver, waits for {@code /readyz}, applies the manifests. Skips the
   * calling test (or fails it under {@code STEELYARD_REQUIRE_K8S=1}) when the binaries are missing.
   */
  public static RealCluster start() throws Exception {
    Binaries binaries = KubeTestEnv.binariesOrSkip();
    Path dir = Files.createTempDirectory("steelyard-k8s-");
    RealCluster cluster = null;
    try {
      cluster = new RealCluster(binaries, dir);
      cluster.startEtcd();
      cluster.startApiServer();
      cluster.admin = cluster.client(cluster.adminToken);
      cluster.applyManifests();
      return cluster;
    } catch (Exception | Error e) {
      if (cluster != null) {
        String logs = cluster.logTails();
        cluster.close();
        throw new IOException("the real Kubernetes API did not start: " + e.getMessage()
            + logs, e);
      }
      deleteTree(dir);
      throw e;
    }
  }

  /** kube-apiserver and etcd versions as the running servers report them. */
  public String versions() {
    return versions;
  }

  /** A client with cluster-admin rights ({@code system:masters}), as {@code kubectl} has. */
  public KubernetesClient admin() {
    return admin;
  }

  /** Another admin client, e.g. for a second replica's informers. */
  public KubernetesClient newAdminClient() {
    return client(adminToken);
  }

  /**
   * A client authenticated as {@code serviceAccount} in {@code namespace} with a token from the
   * TokenRequest API: what a pod running under that ServiceAccount gets.
   */
  public KubernetesClient clientAs(String namespace, String serviceAccount) {
    TokenRequest request = admin.serviceAccounts().inNamespace(namespace).withName(serviceAccount)
        .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L)
            .endSpec().build());
    return client(request.getStatus().getToken());
  }

  /** A client as the control plane runs in a cluster: the ServiceAccount {@code k8s/} ships. */
  public KubernetesClient controlPlaneClient() {
    return clientAs(SYSTEM_NAMESPACE, SERVICE_ACCOUNT);
  }

  /** A new namespace for one test, so tests sharing a cluster do not see each other's apps. */
  public String newNamespace(String prefix) {
    String name = prefix + "-" + NAMESPACES.incrementAndGet();
    admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name)
        .endMetadata().build()).create();
    return name;
  }

  /**
   * Creates the pod, then writes its status ({@code podIP}, phase, the Ready condition) through
   * the status subresource, which is the only way status reaches a real API server.
   */
  public Pod createPod(Pod pod) {
    Pod created = admin.pods().resource(new PodBuilder(pod).withStatus(null).build()).create();
    if (pod.getStatus() == null) {
      return created;
    }
    created.setStatus(pod.getStatus());
    return admin.pods().resource(created).updateStatus();
  }

  /** Sets the pod's Ready condition, as a kubelet does when its readiness probe changes. */
  public Pod setReady(String namespace, String name, boolean ready) {
    return admin.pods().inNamespace(namespace).withName(name).editStatus(pod -> new PodBuilder(pod)
        .editStatus().editMatchingCondition(c -> "Ready".equals(c.getType()))
        .withStatus(ready ? "True" : "False").endCondition().endStatus().build());
  }

  private KubernetesClient client(String token) {
    Config config = new ConfigBuilder(Config.empty())
        .withMasterUrl("https://127.0.0.1:" + apiPort)
        .withCaCertFile(dir.resolve("ca.crt").toString())
        .withOauthToken(token)
        .withRequestRetryBackoffLimit(2)
        .build();
    KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
    synchronized (clients) {
      clients.add(client);
    }
    return client;
  }

  private void generateCertificates() throws Exception {
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=steelyard-test-ca", "-keyout", "ca.key", "-out", "ca.crt");
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver",
        "-keyout", "server.key", "-out", "server.csr");
    Files.writeString(dir.resolve("server.ext"), String.join("\n",
        "basicConstraints=CA:FALSE",
        "keyUsage=digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc", ""));
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.crt");
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
        "-out", "sa.key");
    openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub");
  }

  private void openssl(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process process;
    try {
      process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
          .redirectOutput(dir.resolve("openssl.log").toFile()).start();
    } catch (IOException e) {
      throw new IOException("the real-API tests generate certificates with openssl, which is "
          + "not on PATH: " + e.getMessage(), e);
    }
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("openssl " + String.join(" ", args) + " failed: "
          + Files.readString(dir.resolve("openssl.log")));
    }
  }

  private void startEtcd() throws Exception {
    String client = "http://127.0.0.1:" + etcdPort;
    String peer = "http://127.0.0.1:" + etcdPeerPort;
    etcd = new ProcessBuilder(binaries.etcd().toString(),
        "--name=steelyard-test",
        "--data-dir=" + dir.resolve("etcd-data"),
        "--listen-client-urls=" + client, "--advertise-client-urls=" + client,
        "--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
        "--initial-cluster=steelyard-test=" + peer,
        "--log-level=warn")
        .redirectErrorStream(true).redirectOutput(dir.resolve("etcd.log").toFile()).start();
    awaitOk(http, URI.create(client + "/health"), null, etcd, "etcd");
  }

  /** Starts kube-apiserver (again, after {@link #stopApiServer}) on the same port and etcd. */
  public void startApiServer() throws Exception {
    Path log = dir.resolve("kube-apiserver.log");
    apiServer = new ProcessBuilder(binaries.kubeApiServer().toString(),
        "--etcd-servers=http://127.0.0.1:" + etcdPort,
        "--bind-address=127.0.0.1",
        "--secure-port=" + apiPort,
        "--tls-cert-file=" + dir.resolve("server.crt"),
        "--tls-private-key-file=" + dir.resolve("server.key"),
        "--client-ca-file=" + dir.resolve("ca.crt"),
        "--token-auth-file=" + dir.resolve("tokens.csv"),
        "--service-account-key-file=" + dir.resolve("sa.pub"),
        "--service-account-signing-key-file=" + dir.resolve("sa.key"),
        "--service-account-issuer=https://kubernetes.default.svc",
        "--authorization-mode=RBAC",
        "--anonymous-auth=false",
        "--disable-admission-plugins=ServiceAccount",
        "--service-cluster-ip-range=10.96.0.0/16",
        "--advertise-address=127.0.0.1",
        "--endpoint-reconciler-type=none",
        "--v=1")
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    awaitOk(https, URI.create("https://127.0.0.1:" + apiPort + "/readyz"), adminToken,
        apiServer, "kube-apiserver");
    String apiVersion = get(https, "https://127.0.0.1:" + apiPort + "/version", adminToken);
    String etcdVersion = get(http, "http://127.0.0.1:" + etcdPort + "/version", null);
    versions = "kube-apiserver " + field(apiVersion, "gitVersion") + ", etcd "
        + field(etcdVersion, "etcdserver");
  }

  /** Stops kube-apiserver (SIGTERM, a graceful shutdown); etcd and its data stay. */
  public void stopApiServer() throws InterruptedException {
    stop(apiServer);
  }

  /**
   * Kills kube-apiserver (SIGKILL, as a crash or a lost node): its connections just drop, and
   * clients see nothing but the broken connection. etcd and its data stay.
   */
  public void killApiServer() throws InterruptedException {
    if (apiServer != null && apiServer.isAlive()) {
      apiServer.destroyForcibly();
      apiServer.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private void applyManifests() throws Exception {
    String kustomization = Files.readString(KUSTOMIZATION);
    Matcher m = Pattern.compile("(?m)^\\s*-\\s*(\\S+\\.yaml)\\s*$").matcher(kustomization);
    List<Path> files = new ArrayList<>();
    while (m.find()) {
      files.add(KUSTOMIZATION.getParent().resolve(m.group(1)));
    }
    if (files.isEmpty()) {
      throw new IOException(KUSTOMIZATION + " lists no resources");
    }
    for (Path file : files) {
      try (InputStream in = Files.newInputStream(file)) {
        for (HasMetadata item : admin.load(in).items()) {
          try {
            admin.resource(item).create();
          } catch (RuntimeException e) {
            throw new IOException("the API server refused " + file + " (" + item.getKind() + " "
                + item.getMetadata().getName() + "): " + e.getMessage(), e);
          }
          if (item instanceof CustomResourceDefinition crd) {
            awaitEstablished(crd.getMetadata().getName());
          }
        }
      }
    }
  }

  private void awaitEstablished(String crd) throws Exception {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      CustomResourceDefinition current = admin.apiextensions().v1().customResourceDefinitions()
          .withName(crd).get();
      if (current.getStatus() != null && current.getStatus().getConditions() != null
          && current.getStatus().getConditions().stream().anyMatch(c ->
              "Established".equals(c.getType()) && "True".equals(c.getStatus()))) {
        return;
      }
      Thread.sleep(100);
    }
    throw new IOException("CRD " + crd + " not Established within " + READY_TIMEOUT);
  }

  /**
   * The first event of a watch on {@code path} (e.g. {@code /api/v1/namespaces/a/pods}) from
   * {@code resourceVersion}, as admin: an ERROR event with code 410 when that is too old.
   */
  public String watchFrom(String path, String resourceVersion) throws Exception {
    HttpResponse<Stream<String>> response = https.send(HttpRequest.newBuilder(URI.create(
            "https://127.0.0.1:" + apiPort + path + "?watch=1&resourceVersion=" + resourceVersion))
        .header("Authorization", "Bearer " + adminToken).timeout(Duration.ofSeconds(20)).build(),
        HttpResponse.BodyHandlers.ofLines());
    try (Stream<String> lines = response.body()) {
      return response.statusCode() + " " + lines.findFirst().orElse("");
    }
  }

  // etcd's JSON gateway: what the tests change behind the API server's back.

  /** etcd's current revision (the API server's newest resourceVersion). */
  public long etcdRevision() throws Exception {
    String body = post("/v3/kv/range", "{\"key\":\"" + b64("/registry/") + "\",\"limit\":1}");
    return Long.parseLong(field(field(body, "header"), "revision"));
  }

  /** Compacts etcd's history up to its current revision: older resourceVersions are gone. */
  public void compactEtcd() throws Exception {
    post("/v3/kv/compaction", "{\"revision\":\"" + etcdRevision() + "\",\"physical\":true}");
  }

  /** Deletes an object in etcd directly, as another API server would have, e.g. a pod. */
  public void deleteInEtcd(String resource, String namespace, String name) throws Exception {
    post("/v3/kv/deleterange", "{\"key\":\"" + b64("/registry/" + resource + "/" + namespace
        + "/" + name) + "\"}");
  }

  private String post(String path, String json) throws Exception {
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + etcdPort + path))
        .POST(HttpRequest.BodyPublishers.ofString(json)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException("etcd " + path + ": " + response.statusCode() + " " + response.body());
    }
    return response.body();
  }

  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** One field of a JSON object, as a string (objects come back as their JSON text). */
  static String field(String json, String name) throws IOException {
    var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json).get(name);
    if (node == null) {
      throw new IOException("no " + name + " in " + json);
    }
    return node.isValueNode() ? node.asText() : node.toString();
  }

  private static void awaitOk(HttpClient client, URI uri, String token, Process process,
      String what) throws Exception {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException(what + " exited with " + process.exitValue());
      }
      try {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5));
        if (token != null) {
          request.header("Authorization", "Bearer " + token);
        }
        HttpResponse<String> response = client.send(request.build(),
            HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200) {
          return;
        }
        last = response.statusCode() + " " + response.body();
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(200);
    }
    throw new IOException(what + " not ready at " + uri + " within " + READY_TIMEOUT + ": "
        + last);
  }

  private static String get(HttpClient client, String uri, String token) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(uri))
        .timeout(Duration.ofSeconds(5));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static SSLContext trusting(Path caPem) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = new ByteArrayInputStream(Files.readAllBytes(caPem))) {
      trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509")
          .generateCertificate(in));
    }
    TrustManagerFactory factory = TrustManagerFactory.getInstance(
        TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, factory.getTrustManagers(), null);
    return context;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }

  private static void stop(Process process) throws InterruptedException {
    if (process == null || !process.isAlive()) {
      return;
    }
    process.destroy();
    if (!process.waitFor(15, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private String logTails() {
    StringBuilder out = new StringBuilder();
    for (String name : List.of("etcd.log", "kube-apiserver.log")) {
      Path log = dir.resolve(name);
      try {
        List<String> lines = Files.readAllLines(log);
        out.append("\n--- last lines of ").append(name).append(":\n")
            .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 15),
                lines.size())));
      } catch (IOException e) {
        // No log yet.
      }
    }
    return out.toString();
  }

  /** Stops both servers and removes their data, certificates and logs. */
  @Override
  public void close() {
    synchronized (clients) {
      clients.forEach(KubernetesClient::close);
      clients.clear();
    }
    try {
      stop(apiServer);
      stop(etcd);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    deleteTree(dir);
  }

  private static void deleteTree(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
    } catch (IOException e) {
      System.err.println("RealCluster: cannot remove " + root + ": " + e.getMessage());
    }
  }

  /** Labels for a pod of {@code app} in {@code role}, with the default label keys. */
  public static Map<String, String> labels(String app, String role) {
    return Map.of("app", app, "app-role", role);
  }
}
