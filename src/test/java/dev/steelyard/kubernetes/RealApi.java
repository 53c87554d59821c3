package dev.steelyard.kubernetes;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * {@code @ExtendWith(RealApi.class)}: one {@link RealCluster} for the whole test run, started by
 * the first class that asks and stopped (its data removed) when the run ends; test methods and
 * constructors take it as a parameter. Tests share it, so each works in namespaces of its own
 * ({@link RealCluster#newNamespace}). A test that stops the API server starts a cluster of its
 * own with {@link RealCluster#start} instead.
 */
public final class RealApi implements BeforeAllCallback, ParameterResolver {

  private static final ExtensionContext.Namespace STORE =
      ExtensionContext.Namespace.create(RealApi.class);

  private record Shared(RealCluster cluster)
      implements ExtensionContext.Store.CloseableResource {
    @Override
    public void close() {
      cluster.close();
    }
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    cluster(context);
  }

  static RealCluster cluster(ExtensionContext context) throws Exception {
    // Skips (or fails under STEELYARD_REQUIRE_K8S=1) before anything starts when binaries lack.
    KubeTestEnv.binariesOrSkip();
    ExtensionContext.Store store = context.getRoot().getStore(STORE);
    synchronized (RealApi.class) {
      Shared shared = store.get(Shared.class, Shared.class);
      if (shared == null) {
        long start = System.nanoTime();
        RealCluster cluster = RealCluster.start();
        System.out.printf("real Kubernetes API: %s, ready with the k8s/ manifests in %.1f s%n",
            cluster.versions(), (System.nanoTime() - start) / 1e9);
        shared = new Shared(cluster);
        store.put(Shared.class, shared);
      }
      return shared.cluster();
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.getParameter().getType() == RealCluster.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    try {
      return cluster(context);
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }
}
