package dev.steelyard.demo;

import dev.steelyard.envoy.EnvoyBootstrap;
import dev.steelyard.envoy.EnvoyProcess;
import dev.steelyard.translate.ProxyKind;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The demo's Envoys: a gateway and a sidecar run from the bootstraps in envoy-configs/, pointed at
 * this control plane's xDS port, so that the demo's traffic can go through real proxies. Made
 * empty first, so that a shutdown that comes while they start can stop what has started.
 */
public final class DemoEnvoys implements AutoCloseable {

  private final List<EnvoyProcess> envoys = new ArrayList<>();
  private boolean closed;

  /**
   * Starts both and waits until they have their configuration; admin APIs on
   * {@code adminPort} (gateway) and the next port (sidecar), logs in {@code dir}; they send
   * {@code xdsToken} when the server wants one.
   */
  public void start(Path binary, int xdsPort, Optional<String> xdsToken, int adminPort,
      Path dir) throws IOException, InterruptedException {
    int admin = adminPort;
    for (ProxyKind kind : List.of(ProxyKind.GATEWAY, ProxyKind.SIDECAR)) {
      EnvoyBootstrap bootstrap = EnvoyBootstrap.local(kind).withXds("127.0.0.1", xdsPort)
          .withAdmin("127.0.0.1", admin++).withXdsToken(xdsToken);
      EnvoyProcess envoy;
      synchronized (this) {
        if (closed) {
          return;
        }
        envoy = EnvoyProcess.start(binary, bootstrap, "demo-" + kind.label(), dir);
        envoys.add(envoy);
      }
      envoy.awaitReady(Duration.ofSeconds(30));
    }
  }

  public synchronized List<EnvoyProcess> envoys() {
    return List.copyOf(envoys);
  }

  @Override
  public synchronized void close() {
    closed = true;
    envoys.forEach(EnvoyProcess::close);
  }
}
