package dev.steelyard.source.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.steelyard.kubernetes.RealCluster;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The API server is killed and comes back: the catalog serves its last state meanwhile and says
 * so, then catches up. While it is down, a pod is deleted behind its back (in etcd, as another API
 * server would) and etcd's history is compacted, so the informer's watch cannot resume where it
 * was: the server answers it with 410 Gone, and only the relist after that shows the deletion.
 * A cluster of its own, since it stops the API server.
 */
class ApiServerRestartTest {

  private static final String REFLECTOR =
      "io.fabric8.kubernetes.client.informers.impl.cache.Reflector";

  private RealCluster cluster;
  private KubernetesClient controlPlane;
  private KubernetesAppCatalog catalog;
  private final ListAppender<ILoggingEvent> reflectorLog = new ListAppender<>();
  private Logger reflector;
  private Level reflectorLevel;

  @BeforeEach
  void start() throws Exception {
    cluster = RealCluster.start();
    reflector = (Logger) LoggerFactory.getLogger(REFLECTOR);
    reflectorLevel = reflector.getLevel();
    reflector.setLevel(Level.DEBUG);
    reflectorLog.start();
    reflector.addAppender(reflectorLog);
  }

  @AfterEach
  void stop() {
    if (catalog != null) {
      catalog.close();
    }
    reflector.detachAppender(reflectorLog);
    reflector.setLevel(reflectorLevel);
    if (cluster != null) {
      cluster.close();
    }
  }

  private List<Endpoint> main(AppKey app) {
    return catalog.apps().stream().filter(spec -> spec.key().equals(app)).findFirst()
        .map(spec -> spec.endpoints(SubsetRole.MAIN)).orElse(List.of());
  }

  @Test
  void theLastStateIsServedWhileTheApiServerIsDownAndA410GoneEndsInARelist()
      throws Exception {
    KubernetesClient kubectl = cluster.admin();
    String ns = cluster.newNamespace("restart");
    AppKey hello = new AppKey(ns, "hello-app");
    kubectl.services().resource(KubeObjects.service(ns, "hello-app", "app", 80,
        new IntOrString(9000), "grpc")).create();
    for (int i = 1; i <= 2; i++) {
      cluster.createPod(KubeObjects.pod(ns, "main-" + i, RealCluster.labels("hello-app", "main"),
          "10.0.0." + i, true, Map.of()));
    }
    controlPlane = cluster.controlPlaneClient();
    catalog = KubernetesAppCatalog.start(controlPlane,
        new KubernetesSourceSettings("app", "app-role", List.of(ns)), Duration.ofSeconds(30));
    assertThat(main(hello)).hasSize(2);
    List<AppSpec> before = catalog.apps();
    String seen = kubectl.pods().inNamespace(ns).list().getMetadata().getResourceVersion();

    cluster.killApiServer();
    await().atMost(Duration.ofSeconds(30)).until(() -> catalog.lastError().isPresent());
    assertThat(catalog.lastError().get()).contains("serving the last known endpoints");
    assertThat(catalog.apps()).isEqualTo(before);

    cluster.deleteInEtcd("pods", ns, "main-2");
    cluster.compactEtcd();
    // Still down: nothing the catalog could have seen.
    assertThat(catalog.apps()).isEqualTo(before);

    int logged = reflectorLog.list.size();
    cluster.startApiServer();
    // The server's own answer to a watch from where the informer was: 410 Gone.
    assertThat(cluster.watchFrom("/api/v1/namespaces/" + ns + "/pods", seen))
        .contains("\"code\":410");
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> main(hello).equals(List.of(new Endpoint("10.0.0.1", 9000))));
    await().atMost(Duration.ofSeconds(30)).until(() -> catalog.lastError().isEmpty());
    assertThat(List.copyOf(reflectorLog.list).subList(logged, reflectorLog.list.size()))
        .as("after the restart the informer's watch got 410 Gone, and it relisted")
        .anyMatch(event -> event.getFormattedMessage().contains("http gone"));

    // Caught up: new changes arrive through the new watch.
    cluster.createPod(KubeObjects.pod(ns, "main-3", RealCluster.labels("hello-app", "main"),
        "10.0.0.3", true, Map.of()));
    await().atMost(Duration.ofSeconds(10)).until(() -> main(hello).size() == 2);
  }
}
