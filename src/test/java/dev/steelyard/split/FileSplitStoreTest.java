package dev.steelyard.split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.steelyard.view.AppKey;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileSplitStoreTest {

  private static final AppKey APP = new AppKey("default", "hello-app");

  @Test
  void splitsSurviveReopening(@TempDir Path dir) throws Exception {
    FileSplitStore store = FileSplitStore.open(dir);
    AtomicInteger changes = new AtomicInteger();
    store.onChange(changes::incrementAndGet);
    AppSplits splits = new AppSplits(SplitPolicy.of("deploy", 12.5),
        Optional.of(SplitPolicy.of("test", 0.01)));
    store.set(APP, splits);

    assertThat(changes).hasValue(1);
    assertThat(FileSplitStore.open(dir).get(APP)).isEqualTo(splits);
    assertThat(Files.list(dir)).extracting(path -> path.getFileName().toString())
        .containsExactly("splits.json");
  }

  @Test
  void unknownAppsAreOff(@TempDir Path dir) throws Exception {
    assertThat(FileSplitStore.open(dir).get(APP)).isEqualTo(AppSplits.DEFAULT);
  }

  @Test
  void aCorruptFileStopsStartupWithItsPath(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("splits.json"), "{\"apps\": {\"default/x\": {\"mesh\": ");
    assertThatThrownBy(() -> FileSplitStore.open(dir))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("splits.json cannot be read");
  }

  @Test
  void anOutOfRangeStoredSplitIsRefusedNotClamped(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("splits.json"),
        "{\"apps\": {\"default/x\": {\"mesh\": {\"mode\": \"deploy\", \"canaryWeight\": 70}}}}");
    assertThatThrownBy(() -> FileSplitStore.open(dir))
        .hasMessageContaining("out of range for mode deploy");
  }

  @Test
  void aFailedWriteLeavesStateAsItWas(@TempDir Path dir) throws Exception {
    FileSplitStore store = FileSplitStore.open(dir);
    store.set(APP, new AppSplits(SplitPolicy.of("test", 1), Optional.empty()));
    // A directory where the temporary file should go makes the write fail.
    Files.createDirectory(dir.resolve("splits.json.tmp"));
    assertThatThrownBy(() -> store.set(APP,
        new AppSplits(SplitPolicy.of("test", 2), Optional.empty())))
        .isInstanceOf(IOException.class);
    assertThat(store.get(APP).mesh()).isEqualTo(SplitPolicy.of("test", 1));
    assertThat(FileSplitStore.open(dir).get(APP).mesh()).isEqualTo(SplitPolicy.of("test", 1));
  }

  @Test
  void aSplitRecordedElsewhereIsSeenBeforeItIsDurableAndTakenBackIfTheWriteFails(
      @TempDir Path dir) throws Exception {
    FileSplitStore store = FileSplitStore.open(dir);
    store.set(APP, new AppSplits(SplitPolicy.of("test", 1), Optional.empty()));
    List<SplitPolicy> seen = new ArrayList<>();
    List<String> onDisk = new ArrayList<>();
    store.onChange(() -> {
      seen.add(store.get(APP).mesh());
      try {
        onDisk.add(Files.readString(dir.resolve("splits.json")));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    String fileBefore = Files.readString(dir.resolve("splits.json"));
    AppSplits two = new AppSplits(SplitPolicy.of("test", 2), Optional.empty());
    store.setAlreadyRecorded(APP, two);
    // The listener ran with the new split in memory while the file still held the old one.
    assertThat(seen).containsExactly(SplitPolicy.of("test", 2));
    assertThat(onDisk.get(0)).isEqualTo(fileBefore);
    assertThat(Files.readString(dir.resolve("splits.json"))).isNotEqualTo(fileBefore);
    assertThat(FileSplitStore.open(dir).get(APP)).isEqualTo(two);

    seen.clear();
    Files.createDirectory(dir.resolve("splits.json.tmp"));
    assertThatThrownBy(() -> store.setAlreadyRecorded(APP,
        new AppSplits(SplitPolicy.of("test", 3), Optional.empty())))
        .isInstanceOf(IOException.class);
    // Told of the new split, then of the old one again.
    assertThat(seen).containsExactly(SplitPolicy.of("test", 3), SplitPolicy.of("test", 2));
    assertThat(store.get(APP)).isEqualTo(two);
    assertThat(FileSplitStore.open(dir).get(APP)).isEqualTo(two);
  }
}
