package dev.steelyard.split;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.steelyard.admin.v1.StoredAppSplit;
import dev.steelyard.admin.v1.StoredSplits;
import dev.steelyard.view.AppKey;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Splits in {@code <data-dir>/splits.json}, protobuf JSON of {@link StoredSplits}. Each write goes
 * to a temporary file that is fsynced and then atomically renamed over the old one, so a crash
 * leaves either the old or the new file, never half of one.
 */
public final class FileSplitStore implements SplitStore {

  public static final String FILE_NAME = "splits.json";
  private static final Logger log = LoggerFactory.getLogger(FileSplitStore.class);

  private final Path file;
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
  private volatile Map<AppKey, AppSplits> splits;

  private FileSplitStore(Path file, Map<AppKey, AppSplits> splits) {
    this.file = file;
    this.splits = splits;
  }

  /** Opens the store in {@code dataDir}, creating the directory if needed. */
  public static FileSplitStore open(Path dataDir) throws IOException {
    Files.createDirectories(dataDir);
    Path file = dataDir.resolve(FILE_NAME);
    if (!Files.exists(file)) {
      log.info("no splits stored yet; every app is off until set, and splits go to {}",
          file.toAbsolutePath());
      return new FileSplitStore(file, Map.of());
    }
    String json = Files.readString(file, StandardCharsets.UTF_8);
    try {
      Map<AppKey, AppSplits> splits = fromStored(parse(json));
      log.info("loaded the splits of {} app(s) from {}", splits.size(), file.toAbsolutePath());
      return new FileSplitStore(file, splits);
    } catch (InvalidProtocolBufferException | InvalidSplitException | IllegalArgumentException e) {
      throw new IOException(file + " cannot be read: " + e.getMessage(), e);
    }
  }

  @Override
  public Map<AppKey, AppSplits> all() {
    return splits;
  }

  @Override
  public synchronized void set(AppKey key, AppSplits appSplits) throws IOException {
    TreeMap<AppKey, AppSplits> next = new TreeMap<>(splits);
    next.put(key, appSplits);
    write(toStored(next));
    splits = Map.copyOf(next);
    listeners.forEach(Runnable::run);
  }

  @Override
  public synchronized void setAlreadyRecorded(AppKey key, AppSplits appSplits)
      throws IOException {
    Map<AppKey, AppSplits> before = splits;
    TreeMap<AppKey, AppSplits> next = new TreeMap<>(before);
    next.put(key, appSplits);
    splits = Map.copyOf(next);
    listeners.forEach(Runnable::run);
    try {
      write(toStored(next));
    } catch (IOException | RuntimeException e) {
      splits = before;
      listeners.forEach(Runnable::run);
      throw e;
    }
  }

  @Override
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }

  private void write(StoredSplits stored) throws IOException {
    byte[] bytes = (JsonFormat.printer().sortingMapKeys().print(stored) + "\n")
        .getBytes(StandardCharsets.UTF_8);
    Path temp = file.resolveSibling(FILE_NAME + ".tmp");
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE,
        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      channel.write(java.nio.ByteBuffer.wrap(bytes));
      channel.force(true);
    }
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    // The rename itself is durable only once the directory is synced.
    try (FileChannel directory = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      directory.force(true);
    }
  }

  private static StoredSplits parse(String json) throws InvalidProtocolBufferException {
    StoredSplits.Builder builder = StoredSplits.newBuilder();
    JsonFormat.parser().merge(json, builder);
    return builder.build();
  }

  static StoredSplits toStored(Map<AppKey, AppSplits> splits) {
    StoredSplits.Builder stored = StoredSplits.newBuilder();
    splits.forEach((key, appSplits) -> {
      StoredAppSplit.Builder app = StoredAppSplit.newBuilder().setMesh(SplitProtos.toProto(appSplits.mesh()));
      appSplits.gatewayOverride().ifPresent(gateway -> app.setGateway(SplitProtos.toProto(gateway)));
      stored.putApps(key.toString(), app.build());
    });
    return stored.build();
  }

  static Map<AppKey, AppSplits> fromStored(StoredSplits stored) throws InvalidSplitException {
    TreeMap<AppKey, AppSplits> splits = new TreeMap<>();
    for (Map.Entry<String, StoredAppSplit> entry : stored.getAppsMap().entrySet()) {
      StoredAppSplit app = entry.getValue();
      Optional<SplitPolicy> gateway = app.hasGateway()
          ? Optional.of(SplitProtos.fromProto(app.getGateway())) : Optional.empty();
      splits.put(AppKey.parse(entry.getKey()), new AppSplits(SplitProtos.fromProto(app.getMesh()), gateway));
    }
    return Map.copyOf(splits);
  }
}
