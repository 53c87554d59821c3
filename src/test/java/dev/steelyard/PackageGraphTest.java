package dev.steelyard;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The package graph runs one way, as the data flows (DESIGN.md): sources and splits make the
 * view, translate makes resources of it, xds serves them and reports what proxies say, feedback
 * and status consume that. Read from the source imports; a package not listed here (the
 * entry points: admin, cli, server, rollout, demo, envoy) is not checked.
 */
class PackageGraphTest {

  private static final Path MAIN = Path.of("src/main/java/dev/steelyard");
  private static final Pattern IMPORT =
      Pattern.compile("^import (?:static )?dev\\.steelyard\\.([a-z]+)(\\.v1)?\\.",
          Pattern.MULTILINE);

  /** What each package may import from Steelyard; "api" is the generated admin.v1 messages. */
  private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
      Map.entry("view", Set.of()),
      Map.entry("translate", Set.of("view")),
      Map.entry("source", Set.of("view", "loop")),
      Map.entry("split", Set.of("view", "loop", "api")),
      Map.entry("xds", Set.of("net", "translate")),
      Map.entry("feedback", Set.of("xds", "translate")),
      Map.entry("publish", Set.of("view", "source", "split", "translate", "xds")),
      Map.entry("status", Set.of("view", "split", "translate", "xds", "publish", "feedback",
          "loop")),
      // The judge is pure statistics; load reports only know apps; the automatic judge
      // reads both and answers the rollout engine.
      Map.entry("judge", Set.of()),
      Map.entry("load", Set.of("view")),
      Map.entry("analysis", Set.of("judge", "load", "rollout", "translate", "view")));

  @Test
  void packagesImportOnlyWhatTheyAreAllowedTo() throws IOException {
    List<String> violations = new ArrayList<>();
    for (Map.Entry<String, Set<String>> entry : ALLOWED.entrySet()) {
      String pkg = entry.getKey();
      for (String imported : imports(MAIN.resolve(pkg))) {
        if (!imported.equals(pkg) && !entry.getValue().contains(imported)) {
          violations.add(pkg + " -> " + imported);
        }
      }
    }
    assertThat(violations).isEmpty();
  }

  /** The Steelyard packages imported under {@code dir}, sub-packages included. */
  private static Set<String> imports(Path dir) throws IOException {
    Set<String> found = new TreeSet<>();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        Matcher matcher = IMPORT.matcher(Files.readString(file));
        while (matcher.find()) {
          found.add(matcher.group(2) != null && matcher.group(1).equals("admin") ? "api"
              : matcher.group(1));
        }
      }
    }
    return found;
  }
}
