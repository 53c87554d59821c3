package dev.steelyard.bench;

import dev.steelyard.publish.MakeBeforeBreak;
import dev.steelyard.publish.MeshBuild;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.ProxyResources;
import dev.steelyard.translate.TranslationCache;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.AppKey;
import dev.steelyard.xds.NamedVersionSnapshot;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What one weight change costs the publisher thread, without proxies: compose, translate and
 * validate ({@link MeshBuild}), plan the make-before-break stages, and make the snapshots, for
 * a fleet of {@code apps} apps. Thread CPU time, so load elsewhere on the machine does not count.
 * {@code incremental} reuses unchanged apps' translations as the publisher does;
 * {@code whole} translates every app on every change, as the publisher did before issue 20.
 *
 * <pre>java -cp bench/target/steelyard-bench.jar dev.steelyard.bench.PublishCost 1000 incremental</pre>
 */
public final class PublishCost {

  private PublishCost() {}

  public static void main(String[] args) throws Exception {
    int apps = Integer.parseInt(args[0]);
    boolean whole = args.length > 1 && args[1].equals("whole");
    int reps = args.length > 2 ? Integer.parseInt(args[2]) : 200;
    Fleet fleet = new Fleet(apps, 4);
    Map<AppKey, AppSplits> splits = new HashMap<>();
    TranslationCache cache = new TranslationCache();
    Map<ProxyKind, NamedVersionSnapshot> snapshots = new EnumMap<>(ProxyKind.class);
    Map<ProxyKind, ProxyResources> served = new EnumMap<>(ProxyKind.class);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long build = 0;
    long stages = 0;
    long snapshot = 0;
    // The first half warms the JIT up and is not counted.
    for (int rep = 0; rep < reps * 2; rep++) {
      splits.put(Fleet.key(rep % apps), new AppSplits(SplitPolicy.of("test", 1 + rep % 90),
          Optional.empty()));
      long t0 = threads.getCurrentThreadCpuTime();
      MeshBuild built = MeshBuild.of(fleet.apps(), splits, TranslatorSettings.DEFAULTS,
          whole ? new TranslationCache() : cache);
      long t1 = threads.getCurrentThreadCpuTime();
      for (ProxyKind kind : ProxyKind.values()) {
        if (served.containsKey(kind)) {
          MakeBeforeBreak.stages(served.get(kind), built.resources().get(kind));
        }
      }
      long t2 = threads.getCurrentThreadCpuTime();
      for (ProxyKind kind : ProxyKind.values()) {
        ProxyResources resources = built.resources().get(kind);
        snapshots.put(kind, NamedVersionSnapshot.next(snapshots.get(kind), resources));
        served.put(kind, resources);
      }
      long t3 = threads.getCurrentThreadCpuTime();
      if (rep >= reps) {
        build += t1 - t0;
        stages += t2 - t1;
        snapshot += t3 - t2;
      }
    }
    System.out.printf("apps=%d translation=%s: per weight change %.2f ms CPU (build %.2f, "
        + "stages %.2f, snapshots %.2f), mean of %d after %d warm-ups%n", apps,
        whole ? "whole" : "incremental", (build + stages + snapshot) / 1e6 / reps,
        build / 1e6 / reps, stages / 1e6 / reps, snapshot / 1e6 / reps, reps, reps);
  }
}
