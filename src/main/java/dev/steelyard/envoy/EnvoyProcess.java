package dev.steelyard.envoy;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One Envoy process run from a bootstrap this project renders, with its log in a file and its
 * admin API on loopback. Used by {@code serve --demo}, the benchmark and the tests.
 */
public final class EnvoyProcess implements AutoCloseable {

  private final Process process;
  private final EnvoyBootstrap bootstrap;
  private final String serviceNode;
  private final Path log;
  private final HttpClient http = HttpClient.newBuilder()
      .connectTimeout(Duration.ofSeconds(2)).build();

  private EnvoyProcess(Process process, EnvoyBootstrap bootstrap, String serviceNode, Path log) {
    this.process = process;
    this.bootstrap = bootstrap;
    this.serviceNode = serviceNode;
    this.log = log;
  }

  /**
   * Writes the bootstrap to {@code dir} and starts Envoy on it as {@code serviceNode}. Hot restart
   * is off, so that several Envoys on one host need no distinct {@code --base-id}.
   */
  public static EnvoyProcess start(Path binary, EnvoyBootstrap bootstrap, String serviceNode,
      Path dir, String... extraArgs) throws IOException {
    Files.createDirectories(dir);
    Path config = dir.resolve(serviceNode + ".yaml");
    Files.writeString(config, bootstrap.yaml());
    Path log = dir.resolve(serviceNode + ".log");
    List<String> command = new ArrayList<>(List.of(binary.toString(), "-c", config.toString(),
        "--service-node", serviceNode, "--disable-hot-restart", "--log-level", "info",
        "--concurrency", "1"));
    command.addAll(List.of(extraArgs));
    Process process = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
    return new EnvoyProcess(process, bootstrap, serviceNode, log);
  }

  /**
   * Waits until Envoy's admin says it is ready, that is it has its first listeners and clusters
   * from the control plane. An Envoy that does not get there is stopped: the caller has no
   * handle on it yet and would leave it running.
   */
  public EnvoyProcess awaitReady(Duration timeout) throws IOException, InterruptedException {
    try {
      return pollReady(timeout);
    } catch (IOException | InterruptedException | RuntimeException e) {
      close();
      throw e;
    }
  }

  private EnvoyProcess pollReady(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("envoy " + serviceNode + " exited with " + process.exitValue()
            + "; last log lines:\n" + tail(20));
      }
      try {
        if (admin("/ready").statusCode() == 200) {
          return this;
        }
      } catch (IOException notYetListening) {
        // the admin listener comes up a few hundred milliseconds after start
      }
      Thread.sleep(100);
    }
    throw new IOException("envoy " + serviceNode + " not ready after " + timeout
        + "; last log lines:\n" + tail(20));
  }

  /** A GET on Envoy's admin API, e.g. {@code /clusters} or {@code /config_dump}. */
  public HttpResponse<String> admin(String path) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(URI.create(adminUrl() + path))
        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  public String adminUrl() {
    return "http://127.0.0.1:" + bootstrap.adminPort();
  }

  public String serviceNode() {
    return serviceNode;
  }

  public long pid() {
    return process.pid();
  }

  public Path log() {
    return log;
  }

  /** The last {@code lines} lines of Envoy's log, for error messages. */
  public String tail(int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
