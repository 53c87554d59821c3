package dev.steelyard.source.kubernetes;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.HashMap;

/**
 * fabric8's mock API server in CRUD mode, with the TrafficSplit CRD from {@code k8s/crd}
 * installed, for the tests where it is faster and enough; the others run against a real API
 * server ({@code dev.steelyard.kubernetes.RealCluster}). Pods and Services: {@link KubeObjects}.
 *
 * <p>What the mock cannot show (so these tests do not claim it): set-based and existence label
 * selectors are ignored (the catalog filters again in code, so that is harmless), watches never
 * end with 410 Gone (the informer's relist path is not exercised), no controller sets readiness
 * or deletion, and the CRD's OpenAPI schema is not enforced (a string weight reaches Steelyard,
 * where a real API server refuses it first, which is how these tests reach Steelyard's own check).
 */
public final class MockCluster implements AutoCloseable {

  public static final Path CRD = Path.of("k8s/crd/trafficsplit.yaml");

  private final KubernetesMockServer server = new KubernetesMockServer(new Context(),
      new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
  private final KubernetesClient client;

  public MockCluster() throws IOException {
    server.init();
    client = server.createClient();
    try (InputStream crd = new FileInputStream(CRD.toFile())) {
      client.apiextensions().v1().customResourceDefinitions().load(crd).create();
    }
  }

  public KubernetesClient client() {
    return client;
  }
  /** The mock itself, for the requests it received (what the code asked the API for). */
  public KubernetesMockServer server() {
    return server;
  }


  /** Another client, as a second replica or {@code kubectl} would have. */
  public KubernetesClient newClient() {
    return server.createClient();
  }

  @Override
  public void close() {
    client.close();
    try {
      server.destroy();
    } catch (IllegalStateException e) {
      // The mock sometimes times out waiting for a just-closed watch connection to drain (seen
      // once in ~30 runs); teardown only, nothing a test asserts on.
      System.err.println("MockCluster: " + e.getMessage());
    }
  }
}
