package dev.steelyard.source;

import dev.steelyard.loop.BackgroundLoops;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppSpec;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A source of apps and their endpoints (the YAML file, later Kubernetes). */
public interface AppCatalog extends AutoCloseable {

  /** The last good set of apps. */
  List<AppSpec> apps();

  /** Where the apps come from, for status output. */
  String describe();

  /** Why the last load failed, while the previous good apps are still served. */
  Optional<String> lastError();

  /** Health checks the source asks for, by app; most sources have none. */
  default Map<AppKey, HealthCheck> healthChecks() {
    return Map.of();
  }

  /** What the source has to say about an app's endpoints, such as why one was left out. */
  default List<String> notices(AppKey app) {
    return List.of();
  }

  /** Registers the source's background loops, so that one that stops shows in readiness. */
  default void registerLoops(BackgroundLoops loops) {}

  /** Called after the apps changed, on the source's thread. */
  void onChange(Runnable listener);

  @Override
  void close();
}
