package dev.steelyard.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/steelyard's first run, with {@code mvn} and {@code java} replaced by scripts on PATH that
 * record how they were called: a real build here would run Maven inside Maven for a minute.
 */
class LauncherScriptTest {

  private record Run(int code, String out, String err) {}

  @Test
  void theFirstRunSaysItIsBuildingAndKeepsMavenQuietUnlessItFails(@TempDir Path dir)
      throws Exception {
    Path root = checkout(dir);
    Path stubs = stubs(dir, true);

    Run first = run(root, stubs, "--version");
    assertThat(first.code()).as(first.err()).isZero();
    assertThat(first.err()).isEqualTo(
        "steelyard: building target/steelyard.jar (first run, about a minute)...\n");
    assertThat(Files.readString(dir.resolve("mvn.args")).strip())
        .isEqualTo("-B -q -Dstyle.color=never -DskipTests package");
    assertThat(first.out().strip())
        .isEqualTo("java -jar " + root.resolve("target/steelyard.jar") + " --version");

    Run second = run(root, stubs, "status");
    assertThat(second.err()).as("the jar exists now").isEmpty();
  }

  @Test
  void aFailedBuildShowsMavensOutputWithoutColourCodes(@TempDir Path dir) throws Exception {
    Path root = checkout(dir);
    Run failed = run(root, stubs(dir, false), "--version");
    assertThat(failed.code()).isEqualTo(1);
    assertThat(failed.err()).startsWith("steelyard: building target/steelyard.jar")
        .contains("[ERROR] COMPILATION ERROR")
        .endsWith("steelyard: the build failed (Maven's output above)\n")
        .doesNotContain("\u001b");
    assertThat(failed.out()).as("java does not run").isEmpty();
  }

  private static Path checkout(Path dir) throws Exception {
    Path root = dir.resolve("steelyard");
    Files.createDirectories(root.resolve("bin"));
    Files.copy(Path.of("bin/steelyard"), root.resolve("bin/steelyard"),
        StandardCopyOption.COPY_ATTRIBUTES);
    return root;
  }

  /** {@code mvn} prints colour resets as Maven 3.8 does, and builds the jar or fails. */
  private static Path stubs(Path dir, boolean buildSucceeds) throws Exception {
    Path stubs = Files.createDirectories(dir.resolve("stubs"));
    script(stubs.resolve("mvn"), "echo \"$@\" > '" + dir.resolve("mvn.args") + "'\n"
        + "printf '\\033[0m\\033[0m[INFO] noise\\n'\n"
        + (buildSucceeds
            ? "mkdir -p target && touch target/steelyard.jar\n"
            : "printf '\\033[0m[ERROR] COMPILATION ERROR\\n\\033[0m' >&2\nexit 1\n"));
    script(stubs.resolve("java"), "echo java \"$@\"\n");
    return stubs;
  }

  private static void script(Path file, String body) throws Exception {
    Files.writeString(file, "#!/bin/sh\n" + body);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private static Run run(Path root, Path stubs, String... args) throws Exception {
    String[] command = new String[args.length + 1];
    command[0] = root.resolve("bin/steelyard").toString();
    System.arraycopy(args, 0, command, 1, args.length);
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("PATH", stubs + ":" + System.getenv("PATH"));
    builder.environment().remove("STEELYARD_JAVA_OPTS");
    Process process = builder.start();
    process.getOutputStream().close();
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new Run(process.exitValue(),
        new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
        new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
  }
}
