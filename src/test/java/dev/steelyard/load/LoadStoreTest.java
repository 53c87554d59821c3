package dev.steelyard.load;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** Load buckets: what a window holds, what the ring forgets, and what it refuses to keep. */
class LoadStoreTest {

  private static final AppKey APP = new AppKey("default", "hello-app");
  private static final Instant T0 = Instant.parse("2026-12-01T12:00:00Z");

  /** A clock the test moves. */
  private static final class Manual extends Clock {
    Instant now = T0;

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void aWindowHoldsTheBucketsItOverlapsAndTheRingForgetsOldOnes() {
    Manual clock = new Manual();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    LoadStore store = new LoadStore(Duration.ofSeconds(10), Duration.ofSeconds(60), clock,
        meters);
    for (int i = 0; i < 10; i++) {
      clock.now = T0.plusSeconds(10L * i + 5);
      store.add("envoy-1", APP, SubsetRole.CANARY, 100, 95, 5, 2);
      store.add("client-" + i, APP, SubsetRole.CANARY, 10, 10, 0, 0);
    }
    // Now 12:01:35; six buckets are kept: 12:00:40 .. 12:01:40.
    LoadStore.Totals all = store.totals(APP, SubsetRole.CANARY, T0, clock.now);
    assertThat(all.reports()).isEqualTo(12);
    assertThat(all.succeeded()).isEqualTo(6 * 105);
    assertThat(all.errors()).isEqualTo(6 * 5);
    assertThat(all.errorRate()).isEqualTo(30.0 / 660);
    // A window starting inside a bucket holds that bucket; one ending on a bucket's start
    // does not hold that bucket.
    LoadStore.Totals two = store.totals(APP, SubsetRole.CANARY, T0.plusSeconds(75),
        T0.plusSeconds(90));
    assertThat(two.reports()).isEqualTo(4);
    assertThat(store.intervals(APP, SubsetRole.CANARY, T0.plusSeconds(75), T0.plusSeconds(90)))
        .extracting(LoadStore.Interval::end)
        .containsExactly(T0.plusSeconds(80), T0.plusSeconds(90));
    assertThat(store.firstTraffic(APP, SubsetRole.CANARY, T0)).contains(T0.plusSeconds(50));
    assertThat(store.totals(APP, SubsetRole.BASELINE, T0, clock.now))
        .isEqualTo(LoadStore.Totals.NONE);
    assertThat(meters.get("steelyard_load_requests").tag("role", "canary")
        .tag("outcome", "error").counter().count()).isEqualTo(50);
  }

  @Test
  void reportersAreNamedUpToTheCapAndCountedAll() {
    Manual clock = new Manual();
    LoadStore store = new LoadStore(Duration.ofSeconds(10), Duration.ofMinutes(1), clock,
        new SimpleMeterRegistry());
    for (int i = 0; i < 100; i++) {
      store.add("proxy-" + i, APP, SubsetRole.MAIN, 1, 1, 0, 0);
    }
    LoadStore.Totals totals = store.totals(APP, SubsetRole.MAIN, T0, T0.plusSeconds(10));
    assertThat(totals.reports()).isEqualTo(100);
    assertThat(totals.reporters()).hasSize(LoadStore.MAX_REPORTERS).startsWith("proxy-0");
  }

  @Test
  void seriesBeyondTheBoundAreDroppedAndCounted() {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    LoadStore store = new LoadStore(Duration.ofSeconds(10), Duration.ofSeconds(10), new Manual(),
        meters);
    for (int i = 0; i < LoadStore.MAX_SERIES + 5; i++) {
      store.add("p", new AppKey("ns", "app-" + i), SubsetRole.MAIN, 1, 1, 0, 0);
    }
    assertThat(meters.get("steelyard_load_reports_dropped_total").counter().count()).isEqualTo(5);
  }
}
