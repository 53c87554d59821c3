package dev.steelyard.analysis;

import dev.steelyard.judge.CanaryJudge;
import dev.steelyard.judge.CountDecision;
import dev.steelyard.judge.CountOutcome;
import dev.steelyard.judge.JudgeResult;
import dev.steelyard.judge.MetricConfig;
import dev.steelyard.judge.Outcome;
import dev.steelyard.judge.Samples;
import dev.steelyard.judge.SequentialCountTest;
import dev.steelyard.load.LoadStore;
import dev.steelyard.rollout.Analysis;
import dev.steelyard.rollout.Evidence;
import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.Judge;
import dev.steelyard.rollout.Judgment;
import dev.steelyard.rollout.Steps;
import dev.steelyard.rollout.Verdict;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The automatic judge: baseline against canary over a step's analysis window.
 *
 * <p>The window starts at the canary's first load report with traffic after the step's routes
 * were ACKed by every proxy (the engine's {@code windowStart}), so a canary that receives
 * nothing is never judged healthy. From then on, at every load bucket, the error check (a
 * sequential test, valid however often it is looked at) may roll back at once. When the
 * window has passed, the metrics are judged on the samples of the whole window: a pass with
 * no error evidence continues, a fail rolls back, a marginal score and a lack of data (fewer
 * than the minimum requests, or a NoData judgment, still so {@code maxWait} after the window)
 * do what the analysis says (by default: hold for an operator). An operator's approval
 * continues at any time.
 *
 * <p>Evaluations are kept per flow and step for {@code interval}: the engine asks on every
 * tick, Prometheus need not be asked as often.
 */
public final class AutomaticJudge implements Judge {

  private final MetricSources sources;
  private final Map<String, Cached> cache = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
      return size() > 256;
    }
  };

  private record Cached(Instant at, Verdict verdict) {}

  public AutomaticJudge(MetricSources sources) {
    this.sources = sources;
  }

  /** Every metric must name a source this server can read. */
  @Override
  public String problem(Judgment judgment) {
    Analysis analysis = judgment.analysis();
    if (analysis == null || analysis.metrics() == null) {
      return null;
    }
    for (MetricConfig metric : analysis.metrics().metrics()) {
      String problem = MetricSources.problem(metric);
      if (problem != null) {
        return "judgment.analysis.metrics: " + problem;
      }
      if ("prometheus".equalsIgnoreCase(metric.query().source()) && !sources.hasPrometheus()) {
        return "judgment.analysis.metrics: metric " + metric.name() + " reads Prometheus, but "
            + "this server has no --prometheus URL";
      }
    }
    return null;
  }

  @Override
  public synchronized Verdict judge(Flow flow, Instant acked, Instant now) {
    if (flow.approvedStep() >= flow.step()) {
      return Verdict.proceed("approved by " + flow.approvedBy());
    }
    Analysis analysis = flow.judgment().analysis();
    String key = flow.id() + "/" + flow.step() + "/" + acked;
    Cached cached = cache.get(key);
    Duration every = min(analysis.interval(), sources.load().resolution());
    if (cached != null && now.isBefore(cached.at().plus(every))) {
      return cached.verdict();
    }
    Verdict verdict = evaluate(flow, analysis, acked, now);
    cache.put(key, new Cached(now, verdict));
    return verdict;
  }

  private Verdict evaluate(Flow flow, Analysis analysis, Instant acked, Instant now) {
    AppKey app = flow.app();
    LoadStore load = sources.load();
    Duration window = flow.judgment().window();
    String step = "step " + (flow.step() + 1) + " ("
        + Steps.describe(flow.stepsBasisPoints().get(flow.step())) + " %)";
    var traffic = load.firstTraffic(app, SubsetRole.CANARY, acked);
    if (traffic.isEmpty()) {
      Instant giveUp = acked.plus(window).plus(analysis.maxWait());
      String reason = "no load report shows canary traffic since the routes were ACKed at "
          + acked;
      return now.isBefore(giveUp)
          ? Verdict.pending(step + ": waiting for the canary's traffic (" + reason + ")")
          : noData(analysis, step + ": " + reason + " (waited " + window.plus(
              analysis.maxWait()) + ")", new Evidence(acked, acked, now, null, null, null,
              List.of()));
    }
    // The bucket the first traffic was reported in belongs to the window.
    Instant from = traffic.get().minus(load.resolution());
    Instant end = from.plus(window);
    Instant giveUp = end.plus(analysis.maxWait());
    LoadStore.Totals baseline = load.totals(app, SubsetRole.BASELINE, from, now);
    LoadStore.Totals canary = load.totals(app, SubsetRole.CANARY, from, now);
    List<String> reporters = reporters(baseline, canary);

    CountDecision errors = null;
    if (analysis.errorAlpha() > 0) {
      errors = new SequentialCountTest(analysis.errorAlpha(), analysis.minRequests())
          .evaluate(baseline.errors(), finished(baseline), canary.errors(), finished(canary));
      if (errors.outcome() == CountOutcome.CANARY_WORSE) {
        return Verdict.rollback(step + ": " + errors.reason())
            .withEvidence(new Evidence(acked, from, now, errors, null, null, reporters));
      }
    }
    String errorWords = errors == null ? "error check off" : errors.reason();
    if (now.isBefore(end)) {
      return Verdict.pending(step + ": analysis window until " + end + "; " + errorWords);
    }
    boolean enoughRequests = finished(baseline) >= analysis.minRequests()
        && finished(canary) >= analysis.minRequests();

    JudgeResult metrics = null;
    Map<String, Samples> samples = new LinkedHashMap<>();
    String fetchProblem = null;
    if (analysis.metrics() != null && !analysis.metrics().metrics().isEmpty()) {
      try {
        for (MetricConfig metric : analysis.metrics().metrics()) {
          samples.put(metric.name(), capped(sources.fetch(app, metric, from, now,
              analysis.interval())));
        }
        metrics = CanaryJudge.judge(analysis.metrics(), samples);
      } catch (IOException | RuntimeException e) {
        fetchProblem = "metrics could not be read: " + e.getMessage();
      }
    }
    String fewSamples = fewSamples(samples, analysis.minSamples());
    Evidence evidence = new Evidence(acked, from, now, errors, metrics, samples, reporters);

    boolean noData = !enoughRequests || fetchProblem != null || fewSamples != null
        || (metrics != null && metrics.outcome() == Outcome.NODATA);
    if (noData) {
      String why = fetchProblem != null ? fetchProblem
          : fewSamples != null ? fewSamples
          : !enoughRequests ? "fewer than " + analysis.minRequests() + " finished requests on a "
              + "side (baseline " + finished(baseline) + ", canary " + finished(canary) + ")"
          : "no data: " + metrics.summary();
      return now.isBefore(giveUp)
          ? Verdict.pending(step + ": window over, waiting for data until " + giveUp + " ("
              + why + ")")
          : noData(analysis, step + ": " + why, evidence);
    }
    if (metrics == null) {
      return Verdict.proceed(step + ": " + errorWords).withEvidence(evidence);
    }
    String scored = "score " + Math.round(metrics.score() * 100) / 100.0 + " ("
        + metrics.outcome().name().toLowerCase() + "): " + metrics.summary() + "; "
        + errorWords;
    return switch (metrics.outcome()) {
      case PASS -> Verdict.proceed(step + ": " + scored).withEvidence(evidence);
      case FAIL -> Verdict.rollback(step + ": " + scored).withEvidence(evidence);
      default -> policy(analysis.onMarginal(), step + ": marginal " + scored, evidence);
    };
  }

  private static Verdict noData(Analysis analysis, String reason, Evidence evidence) {
    return policy(analysis.onNoData(), "NoData, " + reason, evidence);
  }

  private static Verdict policy(String policy, String reason, Evidence evidence) {
    return switch (policy) {
      case "rollback" -> Verdict.rollback(reason).withEvidence(evidence);
      case "continue" -> Verdict.proceed(reason).withEvidence(evidence);
      default -> new Verdict(Verdict.Decision.HOLD, reason + "; an operator decides: steelyard "
          + "rollout approve or rollback", evidence);
    };
  }

  /** The first metric with fewer than {@code min} samples on a side, in words, or null. */
  private static String fewSamples(Map<String, Samples> samples, int min) {
    for (Map.Entry<String, Samples> entry : samples.entrySet()) {
      long baseline = Arrays.stream(entry.getValue().baseline()).filter(v -> !Double.isNaN(v))
          .count();
      long canary = Arrays.stream(entry.getValue().canary()).filter(v -> !Double.isNaN(v))
          .count();
      if (baseline < min || canary < min) {
        return "metric " + entry.getKey() + " has " + baseline + " baseline and " + canary
            + " canary samples, fewer than " + min;
      }
    }
    return null;
  }

  private static long finished(LoadStore.Totals totals) {
    return totals.succeeded() + totals.errors();
  }

  private static List<String> reporters(LoadStore.Totals baseline, LoadStore.Totals canary) {
    LinkedHashSet<String> names = new LinkedHashSet<>(baseline.reporters());
    names.addAll(canary.reporters());
    return new ArrayList<>(names);
  }

  private static Samples capped(Samples samples) {
    return new Samples(last(samples.baseline()), last(samples.canary()));
  }

  private static double[] last(double[] values) {
    return values.length <= Evidence.MAX_SAMPLES ? values
        : Arrays.copyOfRange(values, values.length - Evidence.MAX_SAMPLES, values.length);
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
