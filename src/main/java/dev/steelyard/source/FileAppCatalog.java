package dev.steelyard.source;

import dev.steelyard.loop.BackgroundLoops;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Apps from a YAML file, re-read when its bytes change. Polling (rather than inotify) also sees
 * files replaced by rename or symlink swap, as editors and Kubernetes ConfigMaps do. A bad file
 * is reported and the last good apps stay in place.
 *
 * <p>Only a regular file is read (a FIFO in its place blocked the poller for good), on a reader
 * thread with a timeout, at most {@link #MAX_FILE_BYTES}. A poll that fails in any way, an
 * error such as OutOfMemoryError included, is reported in {@link #lastError} and the next poll
 * reads the file again; once the file is good again the error is cleared, also when its bytes
 * are those already served (a file deleted and restored).
 */
public final class FileAppCatalog implements AppCatalog {

  private static final Logger log = LoggerFactory.getLogger(FileAppCatalog.class);

  /** The largest apps file read; 5,000 apps take about 0.6 MB. */
  public static final int MAX_FILE_BYTES = 64 * 1024 * 1024;
  /** How long one read may take before the poll gives up on it. */
  static final Duration READ_TIMEOUT = Duration.ofSeconds(5);
  /** Reader threads left blocked (in an open(2) of a FIFO, say) before reads wait for them. */
  private static final int MAX_ABANDONED_READERS = 4;

  /** Turns the file's text into apps; {@link AppFileParser#read}, or a test's stand-in. */
  @FunctionalInterface
  public interface Parser {
    AppFileParser.Parsed read(String yaml) throws InvalidAppFileException;
  }

  private final Path file;
  private final boolean allowEmptyApps;
  private final Parser parser;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService poller;
  private final ScheduledFuture<?> polling;
  private volatile List<AppSpec> apps;
  private volatile Map<AppKey, HealthCheck> healthChecks;
  private volatile Optional<String> lastError = Optional.empty();
  private volatile boolean closed;
  /** The bytes last handled; null after a failed poll, so that the next one starts afresh. */
  private byte[] lastBytes;
  private ExecutorService reader;
  private Future<byte[]> pendingRead;
  private int abandonedReaders;

  private FileAppCatalog(Path file, byte[] bytes, AppFileParser.Parsed parsed,
      Duration pollInterval, boolean allowEmptyApps, Parser parser, ExecutorService reader) {
    this.file = file;
    this.allowEmptyApps = allowEmptyApps;
    this.parser = parser;
    this.reader = reader;
    this.lastBytes = bytes;
    this.apps = parsed.apps();
    this.healthChecks = parsed.healthChecks();
    this.poller = Executors.newSingleThreadScheduledExecutor(daemon("steelyard-file-source"));
    this.polling = poller.scheduleWithFixedDelay(
        BackgroundLoops.surviving("apps-file poller", this::reloadIfChanged),
        pollInterval.toMillis(), pollInterval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static ThreadFactory daemon(String name) {
    return runnable -> {
      Thread thread = new Thread(runnable, name);
      thread.setDaemon(true);
      return thread;
    };
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
    return open(file, pollInterval, allowEmptyApps, AppFileParser::read);
  }

  /** As above, with the parser given (tests make it fail). */
  public static FileAppCatalog open(Path file, Duration pollInterval, boolean allowEmptyApps,
      Parser parser) throws IOException, InvalidAppFileException {
    ExecutorService reader = newReader();
    byte[] bytes;
    try {
      bytes = timedRead(reader.submit(() -> readRegularFile(file)));
    } catch (IOException e) {
      reader.shutdownNow();
      throw new IOException(FileReadErrors.describe("apps file", file, e), e);
    }
    AppFileParser.Parsed parsed;
    try {
      parsed = parser.read(new String(bytes, StandardCharsets.UTF_8));
    } catch (InvalidAppFileException e) {
      reader.shutdownNow();
      throw new InvalidAppFileException("apps file " + file + ": " + e.getMessage());
    }
    log.info("loaded {} app(s) from {}", parsed.apps().size(), file);
    return new FileAppCatalog(file, bytes, parsed, pollInterval, allowEmptyApps, parser,
        reader);
  }

  private static ExecutorService newReader() {
    return Executors.newSingleThreadExecutor(daemon("steelyard-file-read"));
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

  @Override
  public void registerLoops(BackgroundLoops loops) {
    loops.register("apps-file poller", () -> polling, () -> closed);
  }

  /** Checks the file now; used by the poller and by tests that do not want to wait. */
  public synchronized void reloadIfChanged() {
    try {
      reload();
    } catch (Throwable e) {
      lastBytes = null;
      report("apps file " + file + ": reading it failed: " + e
          + "; keeping the last good apps (read again at the next poll)");
    }
  }

  private void reload() {
    byte[] bytes;
    try {
      bytes = read();
    } catch (IOException e) {
      lastBytes = null;
      report(FileReadErrors.describe("apps file", file, e) + "; keeping the last good apps");
      return;
    }
    if (Arrays.equals(bytes, lastBytes)) {
      return;
    }
    lastBytes = bytes;
    AppFileParser.Parsed parsed;
    try {
      parsed = parser.read(new String(bytes, StandardCharsets.UTF_8));
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
    if (parsed.apps().equals(apps) && parsed.healthChecks().equals(healthChecks)) {
      if (lastError.isPresent()) {
        log.info("apps file {} is good again; it lists the {} app(s) served", file, apps.size());
      }
      lastError = Optional.empty();
      return;
    }
    healthChecks = parsed.healthChecks();
    apps = parsed.apps();
    lastError = Optional.empty();
    log.info("reloaded {} app(s) from {}", apps.size(), file);
    for (Runnable listener : listeners) {
      try {
        listener.run();
      } catch (RuntimeException e) {
        log.error("a listener of {} failed", file, e);
      }
    }
  }

  /**
   * The file's bytes, read on the reader thread within {@link #READ_TIMEOUT}. A read that does
   * not return is left to its thread, and the next poll uses a new one (up to
   * {@link #MAX_ABANDONED_READERS}; after that it waits for the stuck read again).
   */
  private byte[] read() throws IOException {
    if (pendingRead == null || pendingRead.isDone()) {
      pendingRead = reader.submit(() -> readRegularFile(file));
    }
    try {
      byte[] bytes = timedRead(pendingRead);
      pendingRead = null;
      return bytes;
    } catch (ReadTimeoutException e) {
      if (abandonedReaders < MAX_ABANDONED_READERS) {
        abandonedReaders++;
        reader.shutdownNow();
        reader = newReader();
        pendingRead = null;
      }
      throw e;
    } catch (IOException e) {
      pendingRead = null;
      throw e;
    }
  }

  private static final class ReadTimeoutException extends IOException {
    ReadTimeoutException() {
      super("no answer within " + READ_TIMEOUT.toSeconds() + " s (a hung file system, or a "
          + "FIFO put in its place?)");
    }
  }

  private static byte[] timedRead(Future<byte[]> read) throws IOException {
    try {
      return read.get(READ_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new ReadTimeoutException();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while reading", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw new IOException(String.valueOf(e.getCause()), e.getCause());
    }
  }

  /** Reads {@code file} (after symlinks) if it is a regular file of at most the size limit. */
  private static byte[] readRegularFile(Path file) throws IOException {
    BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
    if (attributes.isDirectory()) {
      throw new IOException("is a directory");
    }
    if (!attributes.isRegularFile()) {
      throw new IOException("not a regular file (a FIFO, socket or device); only regular "
          + "files are read");
    }
    if (attributes.size() > MAX_FILE_BYTES) {
      throw new IOException("larger than " + MAX_FILE_BYTES / (1024 * 1024) + " MiB");
    }
    try (InputStream in = Files.newInputStream(file)) {
      byte[] bytes = in.readNBytes(MAX_FILE_BYTES + 1);
      if (bytes.length > MAX_FILE_BYTES) {
        throw new IOException("larger than " + MAX_FILE_BYTES / (1024 * 1024) + " MiB");
      }
      return bytes;
    }
  }

  private void report(String error) {
    if (!lastError.equals(Optional.of(error))) {
      log.error(error);
    }
    lastError = Optional.of(error);
  }

  @Override
  public void close() {
    closed = true;
    poller.shutdownNow();
    synchronized (this) {
      reader.shutdownNow();
    }
  }
}
