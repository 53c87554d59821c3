package dev.steelyard.kubernetes;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * Where the real-API tests find {@code kube-apiserver} and {@code etcd}: the directory named by
 * {@value #DIR_ENV}, else the cache {@code bin/build-k8s-testenv} builds into for the versions
 * {@code k8s/testenv/go.mod} pins. Without them the tests skip with one line; with
 * {@value #REQUIRE_ENV}{@code =1} (as {@code .ci/run} sets) they fail instead, so CI cannot pass
 * by skipping them.
 */
public final class KubeTestEnv {

  public static final String DIR_ENV = "STEELYARD_K8S_TESTENV";
  public static final String REQUIRE_ENV = "STEELYARD_REQUIRE_K8S";
  static final Path GO_MOD = Path.of("k8s/testenv/go.mod");
  private static final String HOW_TO_GET = "run bin/build-k8s-testenv (needs Go and the Go module"
      + " proxy; builds kube-apiserver and etcd once into a cache) or set " + DIR_ENV
      + " to a directory holding both";
  private static boolean reported;

  /** The two binaries and the versions they were built at. */
  public record Binaries(Path kubeApiServer, Path etcd, String kubernetesVersion,
      String etcdVersion) {}

  private KubeTestEnv() {}

  /** The pinned {@code k8s.io/kubernetes} and {@code go.etcd.io/etcd/server/v3} versions. */
  static List<String> pinnedVersions() throws IOException {
    String mod = Files.readString(GO_MOD);
    return List.of(pinned(mod, "k8s.io/kubernetes"), pinned(mod, "go.etcd.io/etcd/server/v3"));
  }

  private static String pinned(String goMod, String module) throws IOException {
    Matcher m = Pattern.compile("(?m)^\\s*" + Pattern.quote(module) + "\\s+(v\\S+)").matcher(goMod);
    if (!m.find()) {
      throw new IOException(GO_MOD + " does not require " + module);
    }
    return m.group(1);
  }

  static Optional<Path> binDir() throws IOException {
    String env = System.getenv(DIR_ENV);
    if (env != null && !env.isBlank()) {
      return Optional.of(Path.of(env));
    }
    List<String> versions = pinnedVersions();
    String cacheHome = System.getenv("STEELYARD_K8S_CACHE");
    Path root;
    if (cacheHome != null && !cacheHome.isBlank()) {
      root = Path.of(cacheHome);
    } else {
      String xdg = System.getenv("XDG_CACHE_HOME");
      root = (xdg != null && !xdg.isBlank() ? Path.of(xdg)
          : Path.of(System.getProperty("user.home"), ".cache")).resolve("steelyard/k8s-testenv");
    }
    return Optional.of(root.resolve(versions.get(0) + "-etcd-" + versions.get(1)).resolve("bin"));
  }

  private static boolean onPath(String program) {
    String path = System.getenv("PATH");
    return path != null && java.util.Arrays.stream(path.split(java.io.File.pathSeparator))
        .anyMatch(dir -> !dir.isEmpty() && Files.isExecutable(Path.of(dir, program)));
  }

  /** The binaries, or a skip (a failure under {@value #REQUIRE_ENV}=1) naming what is missing. */
  public static Binaries binariesOrSkip() {
    String missing;
    String howToGet = HOW_TO_GET;
    try {
      Optional<Path> dir = binDir();
      List<String> versions = pinnedVersions();
      Path apiServer = dir.map(d -> d.resolve("kube-apiserver")).orElse(null);
      Path etcd = dir.map(d -> d.resolve("etcd")).orElse(null);
      if (apiServer == null || !Files.isExecutable(apiServer) || !Files.isExecutable(etcd)) {
        missing = "no kube-apiserver and etcd in " + dir.map(Path::toString).orElse("(none)");
      } else if (!onPath("openssl")) {
        missing = "no openssl on PATH (it generates the test certificates)";
        howToGet = "install openssl (Debian: apt-get install openssl)";
      } else {
        return new Binaries(apiServer, etcd, versions.get(0), versions.get(1));
      }
    } catch (IOException e) {
      missing = "cannot read " + GO_MOD + ": " + e.getMessage();
    }
    if ("1".equals(System.getenv(REQUIRE_ENV))) {
      fail("real-Kubernetes-API tests cannot run (" + missing + "), and " + REQUIRE_ENV
          + "=1 makes that a failure: " + howToGet);
    }
    String why = "SKIPPED real-Kubernetes-API tests: " + missing + "; " + howToGet;
    synchronized (KubeTestEnv.class) {
      if (!reported) {
        System.err.println(why);
        reported = true;
      }
    }
    Assumptions.abort(why);
    throw new AssertionError("unreachable");
  }
}
