package dev.steelyard.demo;

import dev.steelyard.envoy.EnvoyBootstrap;
import dev.steelyard.envoy.EnvoyProcess;
import dev.steelyard.translate.ProxyKind;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo's Envoys: a gateway and a sidecar run from the bootstraps in envoy-configs/, pointed at
 * this control plane's xDS port, so that the demo's traffic can go through real proxies.
 */
public final class DemoEnvoys implements AutoCloseable {

  private final List<EnvoyProcess> envoys = new ArrayList<>();

  private DemoEnvoys() {}

  /** Starts both and waits until they have their configuration; logs go to {@code dir}. */
  public static DemoEnvoys start(Path binary, int xdsPort, Path dir)
      throws IOException, InterruptedException {
    DemoEnvoys demo = new DemoEnvoys();
    try {
      for (ProxyKind kind : List.of(ProxyKind.GATEWAY, ProxyKind.SIDECAR)) {
        EnvoyBootstrap bootstrap = EnvoyBootstrap.local(kind).withXds("127.0.0.1", xdsPort);
        demo.envoys.add(EnvoyProcess.start(binary, bootstrap, "demo-" + kind.label(), dir)
            .awaitReady(Duration.ofSeconds(30)));
      }
    } catch (IOException | InterruptedException e) {
      demo.close();
      throw e;
    }
    return demo;
  }

  public List<EnvoyProcess> envoys() {
    return List.copyOf(envoys);
  }

  @Override
  public void close() {
    envoys.forEach(EnvoyProcess::close);
  }
}
