package dev.steelyard.load;

import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The proxies' load reports, summed per app and role into fixed time buckets ({@code
 * resolution} wide, kept for {@code retention}). A report counts in the bucket of the time it
 * arrived: it covers the reporter's last interval, so a window's first bucket may hold a few
 * requests from just before the window (one report interval at most).
 *
 * <p>Bounded: only apps the control plane publishes (the caller checks), at most {@link
 * #MAX_SERIES} app and role pairs (reports for more are counted as dropped), a ring of buckets
 * per pair (40 bytes a bucket: 360 buckets, the default, are 14 KiB a pair, 43 MiB for 1,000
 * apps with traffic in all three roles), and the names of at most {@link #MAX_REPORTERS}
 * proxies per pair and bucket (the number of reports is exact).
 */
public final class LoadStore {

  static final int MAX_SERIES = 30_000;
  static final int MAX_REPORTERS = 16;

  /** Counts of one app's role over some time. */
  public record Totals(long issued, long succeeded, long errors, long inProgress, long reports,
      List<String> reporters) {

    public static final Totals NONE = new Totals(0, 0, 0, 0, 0, List.of());

    /** Errors per finished request; NaN when none finished. */
    public double errorRate() {
      long finished = succeeded + errors;
      return finished == 0 ? Double.NaN : (double) errors / finished;
    }
  }

  /** One bucket of a series, ending at {@code end}. */
  public record Interval(Instant end, Totals totals) {}

  private final Duration resolution;
  private final int buckets;
  private final Clock clock;
  private final MeterRegistry meters;
  private final Map<Key, Series> series = new HashMap<>();
  private final Counter dropped;

  private record Key(AppKey app, SubsetRole role) {}

  public LoadStore(Duration resolution, Duration retention, Clock clock, MeterRegistry meters) {
    if (resolution.isNegative() || resolution.isZero() || retention.compareTo(resolution) < 0) {
      throw new IllegalArgumentException("resolution must be positive and at most retention");
    }
    this.resolution = resolution;
    this.buckets = (int) Math.min(100_000, retention.toMillis() / resolution.toMillis());
    this.clock = clock;
    this.meters = meters;
    this.dropped = Counter.builder("steelyard_load_reports_dropped_total")
        .description("Load reports not kept: unknown cluster names, or too many app and role "
            + "pairs")
        .register(meters);
  }

  public Duration resolution() {
    return resolution;
  }

  public Duration retention() {
    return resolution.multipliedBy(buckets);
  }

  /** Adds one proxy's report for {@code app}'s {@code role}, received now. */
  public synchronized void add(String node, AppKey app, SubsetRole role, long issued,
      long succeeded, long errors, long inProgress) {
    Key key = new Key(app, role);
    Series one = series.get(key);
    if (one == null) {
      if (series.size() >= MAX_SERIES) {
        dropped.increment();
        return;
      }
      one = new Series(buckets, meters, app, role);
      series.put(key, one);
    }
    one.add(index(clock.instant()), node, issued, succeeded, errors, inProgress);
  }

  /** A report that named no cluster Steelyard publishes. */
  public void droppedReport() {
    dropped.increment();
  }

  /**
   * Sums of {@code app}'s {@code role} over the buckets that overlap {@code from} to {@code to}
   * (at the bucket resolution); the newest in-progress count.
   */
  public synchronized Totals totals(AppKey app, SubsetRole role, Instant from, Instant to) {
    return sum(intervals(app, role, from, to));
  }

  /** The buckets of {@code app}'s {@code role} from {@code from} to {@code to}, oldest first. */
  public synchronized List<Interval> intervals(AppKey app, SubsetRole role, Instant from,
      Instant to) {
    Series one = series.get(new Key(app, role));
    if (one == null) {
      return List.of();
    }
    // Bucket i spans [i, i + 1) resolutions: it overlaps (from, to] from the bucket holding
    // from to the one holding the instant just before to; never older than the ring.
    long first = Math.max(index(from), index(clock.instant()) - buckets + 1);
    long last = Math.min(Math.floorDiv(to.toEpochMilli() - 1, resolution.toMillis()),
        index(clock.instant()));
    List<Interval> out = new ArrayList<>();
    for (long i = first; i <= last; i++) {
      Optional<Totals> totals = one.at(i);
      if (totals.isPresent()) {
        out.add(new Interval(end(i), totals.get()));
      }
    }
    return out;
  }

  /** When {@code app}'s {@code role} was first reported with requests after {@code since}. */
  public synchronized Optional<Instant> firstTraffic(AppKey app, SubsetRole role,
      Instant since) {
    return intervals(app, role, since, clock.instant()).stream()
        .filter(interval -> interval.totals().issued() > 0 || interval.totals().succeeded()
            + interval.totals().errors() > 0)
        .map(Interval::end).findFirst();
  }

  /** The sum of {@code intervals}; the in-progress count of the newest. */
  public static Totals sum(List<Interval> intervals) {
    long issued = 0;
    long succeeded = 0;
    long errors = 0;
    long reports = 0;
    long inProgress = 0;
    LinkedHashMap<String, Boolean> reporters = new LinkedHashMap<>();
    for (Interval interval : intervals) {
      Totals totals = interval.totals();
      issued += totals.issued();
      succeeded += totals.succeeded();
      errors += totals.errors();
      reports += totals.reports();
      inProgress = totals.inProgress();
      for (String node : totals.reporters()) {
        if (reporters.size() < MAX_REPORTERS) {
          reporters.put(node, true);
        }
      }
    }
    return reports == 0 ? Totals.NONE : new Totals(issued, succeeded, errors, inProgress,
        reports, List.copyOf(reporters.keySet()));
  }

  private long index(Instant at) {
    return Math.floorDiv(at.toEpochMilli(), resolution.toMillis());
  }

  private Instant end(long index) {
    return Instant.ofEpochMilli((index + 1) * resolution.toMillis());
  }

  /** A ring of buckets for one app and role, and its counters on /metrics. */
  private static final class Series {
    private final long[] index;
    /** Five counts per bucket, flat: issued, succeeded, errors, in progress, reports. */
    private final long[] counts;
    private final List<LinkedHashMap<String, Boolean>> reporters;
    private final Counter succeeded;
    private final Counter errors;

    Series(int buckets, MeterRegistry meters, AppKey app, SubsetRole role) {
      index = new long[buckets];
      java.util.Arrays.fill(index, Long.MIN_VALUE);
      counts = new long[buckets * 5];
      reporters = new ArrayList<>(buckets);
      for (int i = 0; i < buckets; i++) {
        reporters.add(null);
      }
      succeeded = counter(meters, app, role, "success");
      errors = counter(meters, app, role, "error");
    }

    private static Counter counter(MeterRegistry meters, AppKey app, SubsetRole role,
        String outcome) {
      return Counter.builder("steelyard_load_requests")
          .description("Requests the proxies reported as finished, per app, role and outcome "
              + "(load reporting)")
          .tag("namespace", app.namespace()).tag("app", app.name()).tag("role", role.label())
          .tag("outcome", outcome)
          .register(meters);
    }

    void add(long at, String node, long issued, long ok, long failed, long inProgress) {
      int slot = (int) Math.floorMod(at, (long) index.length);
      if (index[slot] != at) {
        index[slot] = at;
        java.util.Arrays.fill(counts, slot * 5, slot * 5 + 5, 0);
        reporters.set(slot, new LinkedHashMap<>());
      }
      int c = slot * 5;
      counts[c] += issued;
      counts[c + 1] += ok;
      counts[c + 2] += failed;
      counts[c + 3] += inProgress;
      counts[c + 4] += 1;
      if (reporters.get(slot).size() < MAX_REPORTERS) {
        reporters.get(slot).put(node, true);
      }
      succeeded.increment(ok);
      errors.increment(failed);
    }

    Optional<Totals> at(long at) {
      int slot = (int) Math.floorMod(at, (long) index.length);
      if (index[slot] != at) {
        return Optional.empty();
      }
      int c = slot * 5;
      return Optional.of(new Totals(counts[c], counts[c + 1], counts[c + 2], counts[c + 3],
          counts[c + 4],
          List.copyOf(reporters.get(slot).keySet())));
    }
  }
}
