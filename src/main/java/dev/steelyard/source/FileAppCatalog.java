package dev.steelyard.source;

import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Apps from a YAML file, re-read when its bytes change. Polling (rather than inotify) also sees
 * files replaced by rename or symlink swap, as editors and Kubernetes ConfigMaps do. A bad file
 * is reported and the last good apps stay in place.
 */
public final class FileAppCatalog implements AppCatalog {

  private static final Logger log = LoggerFactory.getLogger(FileAppCatalog.class);

  private final Path file;
  private final boolean allowEmptyApps;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService poller;
  private volatile List<AppSpec> apps;
  private volatile Map<AppKey, HealthCheck> healthChecks;
  private volatile Optional<String> lastError = Optional.empty();
  private byte[] lastBytes;

  private FileAppCatalog(Path file, byte[] bytes, AppFileParser.Parsed parsed,
      Duration pollInterval, boolean allowEmptyApps) {
    this.file = file;
    this.allowEmptyApps = allowEmptyApps;
    this.lastBytes = bytes;
    this.apps = parsed.apps();
    this.healthChecks = parsed.healthChecks();
    this.poller = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "steelyard-file-source");
      thread.setDaemon(true);
      return thread;
    });
    poller.scheduleWithFixedDelay(this::reloadIfChanged, pollInterval.toMillis(),
        pollInterval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Loads the file; a file that is missing or invalid at start is an error, not an empty mesh. */
  public static FileAppCatalog open(Path file, Duration pollInterval)
      throws IOException, InvalidAppFileException {
    return open(file, pollInterval, false);
  }

  /**
   * As {@link #open(Path, Duration)}; {@code allowEmptyApps} lets a reload that lists no apps
   * withdraw them all, which is otherwise refused as the likelier accident (a truncated write,
   * a ConfigMap emptied by a bad template).
   */
  public static FileAppCatalog open(Path file, Duration pollInterval, boolean allowEmptyApps)
      throws IOException, InvalidAppFileException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IOException(FileReadErrors.describe("apps file", file, e), e);
    }
    AppFileParser.Parsed parsed;
    try {
      parsed = AppFileParser.read(new String(bytes, StandardCharsets.UTF_8));
    } catch (InvalidAppFileException e) {
      throw new InvalidAppFileException("apps file " + file + ": " + e.getMessage());
    }
    log.info("loaded {} app(s) from {}", parsed.apps().size(), file);
    return new FileAppCatalog(file, bytes, parsed, pollInterval, allowEmptyApps);
  }

  @Override
  public List<AppSpec> apps() {
    return apps;
  }

  @Override
  public Map<AppKey, HealthCheck> healthChecks() {
    return healthChecks;
  }

  @Override
  public String describe() {
    return "file " + file;
  }

  @Override
  public Optional<String> lastError() {
    return lastError;
  }

  @Override
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  /** Checks the file now; used by the poller and by tests that do not want to wait. */
  public synchronized void reloadIfChanged() {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      report(FileReadErrors.describe("apps file", file, e) + "; keeping the last good apps");
      return;
    }
    if (Arrays.equals(bytes, lastBytes)) {
      return;
    }
    lastBytes = bytes;
    AppFileParser.Parsed parsed;
    try {
      parsed = AppFileParser.read(new String(bytes, StandardCharsets.UTF_8));
    } catch (InvalidAppFileException e) {
      report("apps file " + file + ": " + e.getMessage() + "; keeping the last good apps");
      return;
    }
    if (parsed.apps().isEmpty() && !apps.isEmpty() && !allowEmptyApps) {
      report("apps file " + file + ": lists no apps, which would withdraw all " + apps.size()
          + " app(s) from every proxy; keeping the last good apps (serve with "
          + "--allow-empty-apps to allow this)");
      return;
    }
    healthChecks = parsed.healthChecks();
    apps = parsed.apps();
    lastError = Optional.empty();
    log.info("reloaded {} app(s) from {}", apps.size(), file);
    listeners.forEach(Runnable::run);
  }

  private void report(String error) {
    if (!lastError.equals(Optional.of(error))) {
      log.error(error);
    }
    lastError = Optional.of(error);
  }

  @Override
  public void close() {
    poller.shutdownNow();
  }
}
