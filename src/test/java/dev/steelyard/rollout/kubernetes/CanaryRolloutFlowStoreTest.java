package dev.steelyard.rollout.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.steelyard.judge.Samples;
import dev.steelyard.kubernetes.RealApi;
import dev.steelyard.kubernetes.RealCluster;
import dev.steelyard.rollout.Evidence;
import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.FlowMachine;
import dev.steelyard.rollout.FlowRequest;
import dev.steelyard.rollout.HistoryEntry;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.view.AppKey;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Flows in CanaryRollouts' status on a real API server, as the shipped ServiceAccount: a flow
 * too big for etcd is trimmed to fit and read back; a resource changed between read and write
 * (a user's annotation) makes the write read again instead of failing or losing the change.
 */
@ExtendWith(RealApi.class)
class CanaryRolloutFlowStoreTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  private final RealCluster cluster;
  private final String ns;
  private final AppKey app;

  CanaryRolloutFlowStoreTest(RealCluster cluster) {
    this.cluster = cluster;
    this.ns = cluster.newNamespace("flowstore");
    this.app = new AppKey(ns, "hello-app");
  }

  private Flow flow(String id) throws Exception {
    return FlowMachine.start(id, app, FlowRequest.deploy("v2", null, null),
        new FlowMachine.MainWorkload("v1", 4), SplitPolicy.OFF, "test", T0);
  }

  private static Evidence evidence(Random random) {
    Map<String, Samples> samples = new HashMap<>();
    for (int metric = 0; metric < 5; metric++) {
      double[] baseline = new double[Evidence.MAX_SAMPLES];
      double[] canary = new double[Evidence.MAX_SAMPLES];
      for (int i = 0; i < baseline.length; i++) {
        baseline[i] = random.nextDouble() * 100;
        canary[i] = random.nextDouble() * 100;
      }
      samples.put("metric-" + metric, new Samples(baseline, canary));
    }
    return new Evidence(T0, T0, T0.plusSeconds(60), null, null, samples, List.of("gateway-1"));
  }

  @Test
  void aFlowTooBigForEtcdIsTrimmedToFitAndReadBack() throws Exception {
    // Twelve automatic verdicts with 5 metrics x 1,000 samples a side (about 2 MB), then 900
    // entries of 1.2 KB (above the 1 MiB kept even without the samples).
    Flow flow = flow("big1");
    List<HistoryEntry> history = new ArrayList<>(flow.history());
    Random random = new Random(7);
    for (int i = 0; i < 12; i++) {
      history.add(new HistoryEntry(T0.plusSeconds(i), flow.id(), "judgment", "verdict " + i,
          "automatic judge", "grpc 1/1", evidence(random)));
    }
    for (int i = 0; i < 900; i++) {
      history.add(new HistoryEntry(T0.plusSeconds(100 + i), flow.id(), "weight",
          "x".repeat(1_200) + i, "test", ""));
    }
    Flow big = flow.withHistory(history);
    assertThat(CanaryRolloutFlowStore.fit(big).json().length()).as("trimmed")
        .isLessThanOrEqualTo(CanaryRolloutFlowStore.MAX_FLOW_BYTES);

    try (KubernetesClient client = cluster.controlPlaneClient()) {
      CanaryRolloutFlowStore store = new CanaryRolloutFlowStore(client, List.of(ns));
      store.save(big);
      Flow read = store.load().stream().filter(f -> f.id().equals("big1")).findFirst()
          .orElseThrow();
      assertThat(read.history().get(0)).as("started stays").isEqualTo(big.history().get(0));
      assertThat(read.history().get(read.history().size() - 1)).as("the newest stays")
          .isEqualTo(big.history().get(big.history().size() - 1));
      assertThat(read.history().stream().filter(e -> e.evidence() != null
          && !e.evidence().samples().isEmpty())).as("only the newest verdict keeps samples")
          .hasSizeLessThanOrEqualTo(1);
      assertThat(read.history()).hasSizeLessThan(big.history().size());
      assertThat(read.withHistory(big.history())).as("all but the history as saved")
          .isEqualTo(big);
      var resource = CanaryRolloutFlowStore.find(cluster.admin(), ns, "hello-app-big1")
          .orElseThrow();
      assertThat(CanaryRolloutFlowStore.status(resource).get("trimmed")).asString()
          .contains("the samples of 11 older verdict(s)").contains("oldest history entries");
    }
  }

  /** A replica that drives on after another took over does not overwrite the other's flow. */
  @Test
  void aStoreDoesNotOverwriteAFlowAnotherReplicaWroteSince() throws Exception {
    Flow flow = flow("fence1");
    Flow byB = flow.withHistory(List.of(flow.history().get(0), new HistoryEntry(
        T0.plusSeconds(1), flow.id(), "approve", "step 1 approved", "b", "")));
    Flow byA = flow.withHistory(List.of(flow.history().get(0), new HistoryEntry(
        T0.plusSeconds(2), flow.id(), "rollback", "rollback requested", "a", "")));
    try (KubernetesClient clientA = cluster.controlPlaneClient();
        KubernetesClient clientB = cluster.controlPlaneClient()) {
      CanaryRolloutFlowStore a = new CanaryRolloutFlowStore(clientA, List.of(ns));
      CanaryRolloutFlowStore b = new CanaryRolloutFlowStore(clientB, List.of(ns));
      a.save(flow);
      assertThat(b.load()).containsExactly(flow);
      b.save(byB);
      assertThatThrownBy(() -> a.save(byA)).isInstanceOf(java.io.IOException.class)
          .hasMessageContaining("written by another replica");
      assertThat(b.load()).containsExactly(byB);
      // Once it has read the flow again (elected anew), it writes.
      assertThat(a.load()).containsExactly(byB);
      a.save(byA);
      assertThat(b.load()).containsExactly(byA);
    }
  }

  @Test
  void aWriteAfterTheResourceChangedReadsItAgainAndKeepsTheChange() throws Exception {
    // Before the control plane's first status write, a user annotates the resource: that
    // write carries a stale resourceVersion and gets a 409.
    AtomicInteger statusWrites = new AtomicInteger();
    Flow flow = flow("race1");
    Interceptor annotateFirst = new Interceptor() {
      @Override
      public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
        if (request.method().equals("PUT") && request.uri().getPath().endsWith("/status")
            && statusWrites.incrementAndGet() == 2) {
          cluster.admin().genericKubernetesResources(CanaryRollouts.API_VERSION,
              CanaryRollouts.KIND).inNamespace(ns).withName("hello-app-race1").edit(r -> {
                r.getMetadata().getAnnotations().put("example.com/note", "hello");
                return r;
              });
        }
      }
    };
    try (KubernetesClient client = new KubernetesClientBuilder()
        .withConfig(cluster.controlPlaneClient().getConfiguration())
        .withHttpClientBuilderConsumer(b -> b.addOrReplaceInterceptor("race", annotateFirst))
        .build()) {
      CanaryRolloutFlowStore store = new CanaryRolloutFlowStore(client, List.of(ns));
      store.save(flow);
      Flow next = flow.withHistory(List.of(flow.history().get(0), new HistoryEntry(
          T0.plusSeconds(1), flow.id(), "approve", "step 1 approved", "test", "")));
      store.save(next);
      assertThat(statusWrites.get()).as("the 409, then the write again").isEqualTo(3);
      assertThat(store.load()).containsExactly(next);
      var resource = CanaryRolloutFlowStore.find(cluster.admin(), ns, "hello-app-race1")
          .orElseThrow();
      assertThat(resource.getMetadata().getAnnotations())
          .containsEntry("example.com/note", "hello")
          .containsEntry(CanaryRolloutFlowStore.FLOW_ID_ANNOTATION, "race1");
    }
  }
}
