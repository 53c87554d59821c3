package dev.steelyard.bench;

import dev.steelyard.envoy.EnvoyBinary;
import dev.steelyard.envoy.EnvoyBootstrap;
import dev.steelyard.envoy.EnvoyProcess;
import dev.steelyard.server.ServerConfig;
import dev.steelyard.server.SteelyardServer;
import dev.steelyard.split.FileSplitStore;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.TranslatorSettings;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * K real Envoys (half gateways, half sidecars) on one Steelyard: how long from the REST call
 * that sets a weight until every Envoy has applied the new routes, as each Envoy's own stats
 * show it ({@code rds.<config>.update_success} moved, at {@code update_time}), and until
 * Steelyard counts every ACK.
 * Prints one JSON object per line and a summary; {@code bench/run-envoy.sh} writes them to
 * {@code results/}.
 */
public final class EnvoyFleetBench {

  private static final Pattern UPDATES =
      Pattern.compile("rds\\.[^:]+\\.update_(success|time): (\\d+)");

  public static void main(String[] args) throws Exception {
    int envoys = Integer.parseInt(args[0]);
    int changes = Integer.parseInt(args[1]);
    int warmup = Integer.parseInt(args[2]);
    int apps = Integer.parseInt(args[3]);
    Path binary = EnvoyBinary.find(Optional.empty())
        .orElseThrow(() -> new IllegalStateException(EnvoyBinary.HOW_TO_GET));
    Path dir = Files.createTempDirectory("steelyard-envoy-bench");
    Fleet fleet = new Fleet(apps, 4);
    ServerConfig config = ServerConfig.defaults(dir).withBindHost("127.0.0.1").withPorts(0, 0)
        .withTranslator(new TranslatorSettings(freePort(), freePort()));
    List<EnvoyProcess> fleetOfEnvoys = new ArrayList<>();
    try (SteelyardServer server = new SteelyardServer(config, fleet, FileSplitStore.open(dir))
        .start()) {
      for (int i = 0; i < envoys; i++) {
        ProxyKind kind = i % 2 == 0 ? ProxyKind.GATEWAY : ProxyKind.SIDECAR;
        EnvoyBootstrap bootstrap = EnvoyBootstrap.local(kind)
            .withXds("127.0.0.1", server.xdsPort()).withAdmin("127.0.0.1", freePort());
        // Gateways share the listener port: Envoy binds listeners with SO_REUSEPORT.
        fleetOfEnvoys.add(EnvoyProcess.start(binary, bootstrap, kind.label() + "-" + i,
            dir.resolve("envoy")));
      }
      for (EnvoyProcess envoy : fleetOfEnvoys) {
        envoy.awaitReady(Duration.ofSeconds(60));
      }
      System.err.printf("envoy-bench: %d Envoys ready (%s), %d apps%n", envoys,
          versionOf(binary), apps);
      HttpClient http = HttpClient.newHttpClient();
      String admin = "http://127.0.0.1:" + server.adminPort();
      List<Long> lastApplied = new ArrayList<>();
      List<Long> allAcked = new ArrayList<>();
      List<Long> firstApplied = new ArrayList<>();
      for (int change = 0; change < warmup + changes; change++) {
        long[] before = new long[envoys];
        for (int i = 0; i < envoys; i++) {
          before[i] = rds(fleetOfEnvoys.get(i))[0];
        }
        String body = "{\"mode\":\"test\",\"canaryWeight\":" + (1 + change % 40) + "}";
        long startWall = System.currentTimeMillis();
        long start = System.nanoTime();
        HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(admin
                + "/api/v1/apps/bench/app-" + (change % apps) + "/split"))
            .PUT(HttpRequest.BodyPublishers.ofString(body)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (put.statusCode() != 200) {
          throw new IllegalStateException("PUT " + body + ": " + put.body());
        }
        // Steelyard's ACK count is read in-process; then each Envoy is asked once when it
        // applied the routes: its RDS update_time gauge (ms since the epoch, Envoy's clock,
        // which is this machine's). Polling K admin APIs while the change goes out would load
        // the 2 cores it is measured on (tried: p50 216 ms to the first Envoy's counter).
        long ackedAt = 0;
        long deadline = start + Duration.ofSeconds(30).toNanos();
        while (ackedAt == 0 && System.nanoTime() < deadline) {
          if (server.proxies().routesProgress(server.publisher().current().snapshots())
              .values().stream().allMatch(p -> p.applied() == p.connected())) {
            ackedAt = System.nanoTime() - start;
          } else {
            Thread.sleep(0, 200_000);
          }
        }
        long[] appliedAt = new long[envoys];
        int pending = 0;
        for (int i = 0; i < envoys; i++) {
          long[] updates = rds(fleetOfEnvoys.get(i));
          if (updates[0] > before[i]) {
            appliedAt[i] = (updates[1] - startWall) * 1_000_000;
          } else {
            pending++;
          }
        }
        if (ackedAt == 0) {
          throw new IllegalStateException("Steelyard did not count every ACK of change "
              + change + " within 30 s");
        }
        if (pending > 0) {
          throw new IllegalStateException(pending + " Envoys did not apply change " + change);
        }
        if (change >= warmup) {
          long last = 0;
          long first = Long.MAX_VALUE;
          for (long at : appliedAt) {
            last = Math.max(last, at);
            first = Math.min(first, at);
          }
          lastApplied.add(last / 1_000_000);
          firstApplied.add(first / 1_000_000);
          allAcked.add(ackedAt / 1_000_000);
          System.out.printf(Locale.ROOT, "{\"change\":%d,\"firstAppliedMs\":%d,"
              + "\"lastAppliedMs\":%d,\"allAckedMs\":%d}%n", change - warmup, first / 1_000_000,
              last / 1_000_000, ackedAt / 1_000_000);
        }
      }
      System.out.printf(Locale.ROOT, "{\"summary\":true,\"envoys\":%d,\"apps\":%d,"
          + "\"changes\":%d,\"envoyVersion\":\"%s\",\"lastAppliedMs\":{\"p50\":%d,\"p99\":%d,"
          + "\"max\":%d},\"firstAppliedMs\":{\"p50\":%d},\"allAckedMs\":{\"p50\":%d,"
          + "\"p99\":%d}}%n", envoys, apps, changes, versionOf(binary),
          percentile(lastApplied, 50), percentile(lastApplied, 99), percentile(lastApplied, 100),
          percentile(firstApplied, 50), percentile(allAcked, 50), percentile(allAcked, 99));
    } finally {
      fleetOfEnvoys.forEach(EnvoyProcess::close);
    }
  }

  /**
   * The Envoy's RDS update_success counter and update_time gauge (each Envoy has one route
   * configuration).
   */
  private static long[] rds(EnvoyProcess envoy) throws IOException, InterruptedException {
    Matcher matcher = UPDATES.matcher(envoy.admin(
        "/stats?filter=rds%5C..*%5C.update_(success%7Ctime)").body());
    long[] found = new long[2];
    while (matcher.find()) {
      found[matcher.group(1).equals("success") ? 0 : 1] = Long.parseLong(matcher.group(2));
    }
    return found;
  }

  /** Nearest-rank percentile; 100 is the maximum. */
  static long percentile(List<Long> values, int p) {
    List<Long> sorted = values.stream().sorted().toList();
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
  }

  private static String versionOf(Path binary) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(binary.toString(), "--version")
        .redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes()).strip();
    process.waitFor();
    Matcher version = Pattern.compile("/(\\d+\\.\\d+\\.\\d+)/").matcher(out);
    return version.find() ? version.group(1) : out;
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
