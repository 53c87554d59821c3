package dev.steelyard.source;

import dev.steelyard.view.AppSpec;
import java.util.List;
import java.util.Optional;

/** A source of apps and their endpoints (the YAML file, later Kubernetes). */
public interface AppCatalog extends AutoCloseable {

  /** The last good set of apps. */
  List<AppSpec> apps();

  /** Where the apps come from, for status output. */
  String describe();

  /** Why the last load failed, while the previous good apps are still served. */
  Optional<String> lastError();

  /** Called after the apps changed, on the source's thread. */
  void onChange(Runnable listener);

  @Override
  void close();
}
