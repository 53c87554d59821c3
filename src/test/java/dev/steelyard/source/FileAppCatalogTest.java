package dev.steelyard.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileAppCatalogTest {

  private static final String ONE_ENDPOINT =
      "apps: [{name: a, port: 80, endpoints: {main: [\"10.0.0.1\"]}}]\n";
  private static final String TWO_ENDPOINTS =
      "apps: [{name: a, port: 80, endpoints: {main: [\"10.0.0.1\", \"10.0.0.2\"]}}]\n";

  @Test
  void reloadsWhenTheFileChangesAndKeepsTheLastGoodAppsOnABadOne(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("apps.yaml");
    Files.writeString(file, ONE_ENDPOINT);
    try (FileAppCatalog catalog = FileAppCatalog.open(file, Duration.ofHours(1))) {
      AtomicInteger changes = new AtomicInteger();
      catalog.onChange(changes::incrementAndGet);

      catalog.reloadIfChanged();
      assertThat(changes).as("unchanged bytes are not a change").hasValue(0);

      Files.writeString(file, TWO_ENDPOINTS);
      catalog.reloadIfChanged();
      assertThat(changes).hasValue(1);
      assertThat(mainEndpoints(catalog.apps())).hasSize(2);

      Files.writeString(file, "apps: [{name: a, port: 80, endpoints: {main: [\"10.0.0.\"]}}]");
      catalog.reloadIfChanged();
      assertThat(changes).hasValue(1);
      assertThat(mainEndpoints(catalog.apps())).hasSize(2);
      assertThat(catalog.lastError()).hasValueSatisfying(error -> assertThat(error)
          .contains("apps.yaml").contains("'10.0.0.' is not an IP address")
          .contains("keeping the last good apps"));

      // Replaced by rename, as editors and ConfigMap updates do.
      Path next = dir.resolve("apps.yaml.new");
      Files.writeString(next, ONE_ENDPOINT);
      Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      catalog.reloadIfChanged();
      assertThat(changes).hasValue(2);
      assertThat(catalog.lastError()).isEmpty();
      assertThat(mainEndpoints(catalog.apps())).containsExactly(new Endpoint("10.0.0.1", 80));
    }
  }

  @Test
  void thePollerPicksUpChanges(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("apps.yaml");
    Files.writeString(file, ONE_ENDPOINT);
    try (FileAppCatalog catalog = FileAppCatalog.open(file, Duration.ofMillis(20))) {
      Files.writeString(file, TWO_ENDPOINTS);
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
          .until(() -> mainEndpoints(catalog.apps()).size() == 2);
    }
  }

  @Test
  void aMissingOrBadFileAtStartIsAnError(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("nope.yaml");
    assertThatThrownBy(() -> FileAppCatalog.open(missing, Duration.ofSeconds(1)))
        .isInstanceOf(java.io.IOException.class)
        .hasMessage("apps file " + missing + ": no such file");
    assertThatThrownBy(() -> FileAppCatalog.open(dir, Duration.ofSeconds(1)))
        .hasMessage("apps file " + dir + ": is a directory");
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "apps: [{name: a}]");
    assertThatThrownBy(() -> FileAppCatalog.open(bad, Duration.ofSeconds(1)))
        .isInstanceOf(InvalidAppFileException.class)
        .hasMessageStartingWith("apps file " + bad + ": apps[0] default/a: port must be set");
  }

  @Test
  void aReloadThatListsNoAppsIsRefusedUnlessAllowed(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("apps.yaml");
    Files.writeString(file, ONE_ENDPOINT);
    try (FileAppCatalog catalog = FileAppCatalog.open(file, Duration.ofHours(1))) {
      Files.writeString(file, "apps: []\n");
      catalog.reloadIfChanged();
      assertThat(catalog.lastError()).hasValue("apps file " + file + ": lists no apps, which "
          + "would withdraw all 1 app(s) from every proxy; keeping the last good apps (serve "
          + "with --allow-empty-apps to allow this)");
      assertThat(mainEndpoints(catalog.apps())).containsExactly(new Endpoint("10.0.0.1", 80));
    }
    Files.writeString(file, ONE_ENDPOINT);
    try (FileAppCatalog catalog = FileAppCatalog.open(file, Duration.ofHours(1), true)) {
      Files.writeString(file, "apps: []\n");
      catalog.reloadIfChanged();
      assertThat(catalog.lastError()).isEmpty();
      assertThat(catalog.apps()).isEmpty();
    }
  }

  @Test
  void aDeletedFileIsReportedWithItsReasonAndTheAppsStay(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("apps.yaml");
    Files.writeString(file, ONE_ENDPOINT);
    try (FileAppCatalog catalog = FileAppCatalog.open(file, Duration.ofHours(1))) {
      Files.delete(file);
      catalog.reloadIfChanged();
      assertThat(catalog.lastError()).hasValue(
          "apps file " + file + ": no such file; keeping the last good apps");
      assertThat(mainEndpoints(catalog.apps())).containsExactly(new Endpoint("10.0.0.1", 80));
    }
  }

  private static List<Endpoint> mainEndpoints(List<AppSpec> apps) {
    return apps.get(0).endpoints(SubsetRole.MAIN);
  }
}
