package dev.steelyard.envoy;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * The Envoy binary the tests run ({@link EnvoyBinary}'s search). Without one the tests skip with
 * one line; with {@value #REQUIRE} set (as {@code .ci/run} does) they fail instead, so CI cannot
 * pass by skipping them.
 */
final class RealEnvoy {

  static final String REQUIRE = "STEELYARD_REQUIRE_ENVOY";
  private static boolean reported;

  private RealEnvoy() {}

  static Path binaryOrSkip() {
    Optional<Path> binary = EnvoyBinary.find(Optional.empty());
    if (binary.isPresent()) {
      return binary.get();
    }
    String why = "SKIPPED real-Envoy tests: " + EnvoyBinary.HOW_TO_GET;
    if ("1".equals(System.getenv(REQUIRE))) {
      fail("real-Envoy tests cannot run, and " + REQUIRE + "=1 makes that a failure: "
          + EnvoyBinary.HOW_TO_GET);
    }
    synchronized (RealEnvoy.class) {
      if (!reported) {
        System.err.println(why);
        reported = true;
      }
    }
    Assumptions.abort(why);
    throw new AssertionError("unreachable");
  }
}
