package dev.steelyard.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ProbeRunTest {

  @Test
  void sharesAddUpToExactlyOneHundredPercent() {
    // Rounded one by one, 1/7 five times and 2/7 print as 14.29 * 5 + 28.57 = 100.02,
    // and thirds as 33.33 * 3 = 99.99.
    int[] sevenths = ProbeRun.largestRemainder(new int[] {1, 1, 1, 1, 1, 2});
    assertThat(sevenths).containsExactly(1429, 1429, 1429, 1428, 1428, 2857);
    assertThat(Arrays.stream(sevenths).sum()).isEqualTo(10_000);
    assertThat(ProbeRun.largestRemainder(new int[] {1, 1, 1})).containsExactly(3334, 3333, 3333);
    assertThat(ProbeRun.largestRemainder(new int[] {788, 104, 108}))
        .containsExactly(7880, 1040, 1080);
    Random random = new Random(16);
    for (int round = 0; round < 1000; round++) {
      int[] counts = random.ints(1 + random.nextInt(6), 0, 5000).toArray();
      if (Arrays.stream(counts).sum() == 0) {
        continue;
      }
      int[] shares = ProbeRun.largestRemainder(counts);
      assertThat(Arrays.stream(shares).sum()).as(Arrays.toString(counts)).isEqualTo(10_000);
      long total = Arrays.stream(counts).sum();
      for (int i = 0; i < counts.length; i++) {
        // Each share is its exact value rounded down or up, never further off.
        double exact = counts[i] * 10_000.0 / total;
        assertThat((double) shares[i]).isBetween(Math.floor(exact), Math.ceil(exact));
      }
    }
  }

  @Test
  void theTallyCountsFailuresPerRoleAndPerEndpointAndRowsSumToOneHundred() {
    ProbeRun run = new ProbeRun(7);
    run.record(ProbeRun.Outcome.answered("main", "127.0.0.1:1"));
    run.record(ProbeRun.Outcome.answered("main", "127.0.0.1:1"));
    run.record(ProbeRun.Outcome.answered("main", "127.0.0.1:2"));
    run.record(ProbeRun.Outcome.failed("canary", null, "UNAVAILABLE: io exception"));
    run.record(ProbeRun.Outcome.failed("canary", null, "UNAVAILABLE: io exception"));
    run.record(ProbeRun.Outcome.failed(null, null, "DEADLINE_EXCEEDED: deadline"));
    run.record(ProbeRun.Outcome.ofHttp("HTTP 503"));
    ProbeRun.Tally tally = run.tally();
    assertThat(tally.finished()).isEqualTo(7);
    assertThat(tally.failed()).isEqualTo(4);
    assertThat(tally.rows()).containsExactly(
        new ProbeRun.Row("main", 3, 0, "42.86"),
        new ProbeRun.Row("canary", 2, 2, "28.57"),
        new ProbeRun.Row("HTTP 503", 1, 1, "14.29"),
        new ProbeRun.Row("error: DEADLINE_EXCEEDED", 1, 1, "14.28"));
    assertThat(tally.failures()).first()
        .isEqualTo(new ProbeRun.Failure("canary", null, "UNAVAILABLE: io exception", 2));
  }

  @Test
  void aRequestThatHangsDoesNotHoldUpTheOthers() throws Exception {
    // One slot; the first request answers only after all the others, as a request to a hanging
    // endpoint ends at its deadline. Without freeing its slot the run could never go on.
    java.util.concurrent.CompletableFuture<ProbeRun.Outcome> hanging =
        new java.util.concurrent.CompletableFuture<>();
    java.util.concurrent.atomic.AtomicInteger sent =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.List<String> order = new java.util.concurrent.CopyOnWriteArrayList<>();
    ProbeRun run = new ProbeRun(10);
    run.send(1, () -> {
      if (sent.getAndIncrement() == 0) {
        return hanging.whenComplete((outcome, error) -> order.add("hanging"));
      }
      order.add("fast");
      if (sent.get() == 10) {
        hanging.complete(ProbeRun.Outcome.failed("canary", null, "DEADLINE_EXCEEDED"));
      }
      return java.util.concurrent.CompletableFuture.completedFuture(
          ProbeRun.Outcome.answered("main", null));
    });
    assertThat(order).hasSize(10).endsWith("hanging");
    assertThat(run.tally().failed()).isEqualTo(1);
    assertThat(run.tally().finished()).isEqualTo(10);
  }
}
