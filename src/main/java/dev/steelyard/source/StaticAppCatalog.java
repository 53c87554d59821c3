package dev.steelyard.source;

import dev.steelyard.view.AppSpec;
import java.util.List;
import java.util.Optional;

/** A fixed set of apps, such as the embedded demo config. */
public final class StaticAppCatalog implements AppCatalog {

  private final List<AppSpec> apps;
  private final String description;

  public StaticAppCatalog(List<AppSpec> apps, String description) {
    this.apps = List.copyOf(apps);
    this.description = description;
  }

  @Override
  public List<AppSpec> apps() {
    return apps;
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public Optional<String> lastError() {
    return Optional.empty();
  }

  @Override
  public void onChange(Runnable listener) {}

  @Override
  public void close() {}
}
