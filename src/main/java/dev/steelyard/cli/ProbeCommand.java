package dev.steelyard.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.steelyard.admin.v1.AppState;
import dev.steelyard.demo.HttpProbe;
import dev.steelyard.demo.ProbeRun;
import dev.steelyard.demo.SplitProbe;
import dev.steelyard.demo.XdsCheck;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "probe", mixinStandardHelpOptions = true,
    description = "Send requests to APP and print where they landed, per role: through a real "
        + "proxyless gRPC xDS client (--via grpc, the backends must answer the demo "
        + "RoleService), or as HTTP GETs through an Envoy gateway or sidecar (the backends "
        + "must send the x-steelyard-role header). Exits 1 if any request failed.")
final class ProbeCommand implements Callable<Integer> {

  enum Via { grpc, gateway, sidecar }

  enum Format { text, json }

  private static final Duration SETTLE = Duration.ofSeconds(10);
  private static final Duration CHECK = Duration.ofSeconds(5);
  private static final long PROGRESS_SECONDS = 2;

  @Parameters(paramLabel = "APP", description = "the name a client dials, e.g. hello-app or "
      + "hello-app.default.svc.cluster.local")
  String app;

  @Option(names = {"-n", "--requests"}, defaultValue = "1000") int requests;

  @Option(names = "--via", defaultValue = "grpc",
      description = "grpc (proxyless xDS client), gateway or sidecar (HTTP through Envoy); "
          + "default ${DEFAULT-VALUE}")
  Via via;

  @Option(names = "--xds", defaultValue = "${env:STEELYARD_XDS:-127.0.0.1:18000}",
      description = "Control plane xDS address for --via grpc (env STEELYARD_XDS; default "
          + "${DEFAULT-VALUE}).")
  String xds;

  @Option(names = "--gateway", defaultValue = "127.0.0.1:10080",
      description = "the Envoy gateway for --via gateway; default ${DEFAULT-VALUE}")
  String gateway;

  @Option(names = "--sidecar", defaultValue = "127.0.0.1:15001",
      description = "the Envoy sidecar for --via sidecar; default ${DEFAULT-VALUE}")
  String sidecar;

  @Option(names = "--host", description = "Host header through Envoy; default: the app's first "
      + "gateway host (from the admin API) for the gateway, APP for the sidecar")
  String host;

  @Option(names = "--path", defaultValue = "/", description = "HTTP path; default /")
  String path;

  @Option(names = "--timeout", defaultValue = "2s", converter = DurationConverter.class,
      description = "deadline of each request; default ${DEFAULT-VALUE}")
  Duration timeout;

  @Option(names = "--concurrency", defaultValue = "16",
      description = "requests in flight at once; one without an answer after 250 ms stops "
          + "counting, so a hanging endpoint does not stall the rest; default ${DEFAULT-VALUE}")
  int concurrency;

  @Option(names = {"-o", "--output"}, defaultValue = "text", description = "text or json")
  Format output;

  @Mixin AdminOptions admin;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Where the requests go and how one is sent. */
  private record Target(String description, Supplier<CompletableFuture<ProbeRun.Outcome>> send,
      AutoCloseable resources) {}

  @Override
  public Integer call() throws Exception {
    if (requests < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--requests must be >= 1");
    }
    if (concurrency < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--concurrency must be >= 1");
    }
    if (timeout.isZero() || timeout.isNegative()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--timeout must be > 0");
    }
    Target target;
    try {
      target = via == Via.grpc ? grpcTarget() : httpTarget();
    } catch (Output.BadArgument | AdminClient.AdminError e) {
      return Output.fail(spec, e);
    } catch (Unreachable e) {
      Output.fail(spec, e);
      return 1;
    }
    try (AutoCloseable resources = target.resources()) {
      return probe(target);
    }
  }

  /** The control plane cannot be asked; exit 1, not 2: the input may be fine. */
  private static final class Unreachable extends Exception {
    Unreachable(String message) {
      super(message);
    }
  }

  private Target grpcTarget() throws Output.BadArgument, Unreachable, InterruptedException {
    String description = "xds:///" + app + " via " + xds;
    ManagedChannel channel;
    if (System.getenv("GRPC_XDS_BOOTSTRAP") != null) {
      channel = ManagedChannelBuilder.forTarget("xds:///" + app).usePlaintext().build();
      description = "xds:///" + app + " via $GRPC_XDS_BOOTSTRAP";
    } else {
      Optional<XdsCheck.Problem> problem = XdsCheck.check(xds, app, CHECK);
      if (problem.isPresent()) {
        switch (problem.get().kind()) {
          case NO_SUCH_APP -> throw new Output.BadArgument(problem.get().message());
          case UNREACHABLE -> throw new Unreachable(problem.get().message());
          case NO_ANSWER -> {
            spec.commandLine().getErr().println("steelyard: " + problem.get().message()
                + "; probing anyway");
            spec.commandLine().getErr().flush();
          }
        }
      }
      channel = SplitProbe.channel(app, xds, "steelyard-probe-" + ProcessHandle.current().pid());
    }
    SplitProbe.awaitSettled(channel, SETTLE);
    return new Target(description, () -> SplitProbe.send(channel, timeout),
        () -> SplitProbe.close(channel));
  }

  private Target httpTarget() throws Output.BadArgument, AdminClient.AdminError {
    String address = via == Via.gateway ? gateway : sidecar;
    int colon = address.lastIndexOf(':');
    int port;
    try {
      port = Integer.parseInt(address.substring(colon + 1));
    } catch (NumberFormatException | IndexOutOfBoundsException e) {
      throw new Output.BadArgument("--" + via + " '" + address + "' must be HOST:PORT");
    }
    String ip = colon > 0 ? address.substring(0, colon).replaceAll("^\\[|\\]$", "") : "127.0.0.1";
    String hostHeader = host != null ? host : via == Via.sidecar ? app : gatewayHost();
    HttpProbe http = new HttpProbe(concurrency);
    return new Target("http://" + hostHeader + path + " via " + via + " " + address,
        () -> http.send(ip, port, hostHeader, path, timeout).thenApply(ProbeRun.Outcome::ofHttp),
        http);
  }

  /** The first gateway host of APP (name, ns/name or name.ns...), from the admin API. */
  private String gatewayHost() throws Output.BadArgument, AdminClient.AdminError {
    String[] labels = app.split("[.:]");
    String appPath = app.contains("/") ? SplitCommand.appPath(app, null)
        : SplitCommand.appPath(labels[0], labels.length > 1 ? labels[1] : null);
    AppState state = admin.client().get(appPath, AppState.newBuilder()).build();
    if (state.getGatewayHostsCount() == 0) {
      throw new Output.BadArgument(state.getNamespace() + "/" + state.getName()
          + " has no gatewayHosts; give --host");
    }
    return state.getGatewayHosts(0);
  }

  private int probe(Target target) throws Exception {
    ProbeRun run = new ProbeRun(requests);
    AtomicBoolean printed = new AtomicBoolean();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    // Ctrl-C: print what has been counted so far rather than lose it.
    Thread onInterrupt = new Thread(() -> {
      if (printed.compareAndSet(false, true)) {
        print(out, target.description(), run.tally(), true);
      }
    }, "steelyard-probe-interrupted");
    Runtime.getRuntime().addShutdownHook(onInterrupt);
    ScheduledExecutorService progress = Executors.newSingleThreadScheduledExecutor(task -> {
      Thread thread = new Thread(task, "steelyard-probe-progress");
      thread.setDaemon(true);
      return thread;
    });
    progress.scheduleAtFixedRate(() -> {
      ProbeRun.Tally tally = run.tally();
      err.printf("probe: %d of %d done, %d failed%n", tally.finished(), tally.requested(),
          tally.failed());
      err.flush();
    }, PROGRESS_SECONDS, PROGRESS_SECONDS, TimeUnit.SECONDS);
    try {
      run.send(concurrency, target.send());
    } finally {
      progress.shutdownNow();
      try {
        Runtime.getRuntime().removeShutdownHook(onInterrupt);
      } catch (IllegalStateException shuttingDown) {
        // The hook is running or about to: it prints.
      }
    }
    ProbeRun.Tally tally = run.tally();
    if (printed.compareAndSet(false, true)) {
      print(out, target.description(), tally, false);
    }
    return tally.failed() > 0 ? 1 : 0;
  }

  private void print(PrintWriter out, String description, ProbeRun.Tally tally,
      boolean interrupted) {
    if (output == Format.json) {
      out.println(json(description, tally, interrupted));
      out.flush();
      return;
    }
    out.printf("probe %s: %s%d requests, %d failed%n", description,
        interrupted ? "interrupted after " + tally.finished() + " of " : "",
        interrupted ? tally.requested() : tally.finished(), tally.failed());
    out.printf("  %-22s %8s %8s %7s%n", "ROLE", "REQUESTS", "SHARE", "FAILED");
    for (ProbeRun.Row row : tally.rows()) {
      out.printf(Locale.ROOT, "  %-22s %8d %7s%% %7d%n", row.key(), row.requests(),
          row.percent(), row.failed());
    }
    if (!tally.failures().isEmpty()) {
      out.println("failed requests:");
      for (ProbeRun.Failure failure : tally.failures()) {
        out.printf("  %-9s %-22s %7d  %s%n",
            failure.role() == null ? "?" : failure.role(),
            failure.endpoint() == null ? "endpoint unknown" : failure.endpoint(),
            failure.count(), failure.reason());
      }
    }
    out.flush();
  }

  private String json(String description, ProbeRun.Tally tally, boolean interrupted) {
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("target", description);
    result.put("via", via.name());
    result.put("requested", tally.requested());
    result.put("finished", tally.finished());
    result.put("failed", tally.failed());
    result.put("interrupted", interrupted);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (ProbeRun.Row row : tally.rows()) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("key", row.key());
      entry.put("requests", row.requests());
      entry.put("failed", row.failed());
      entry.put("percent", new BigDecimal(row.percent()));
      rows.add(entry);
    }
    result.put("rows", rows);
    List<Map<String, Object>> failures = new ArrayList<>();
    for (ProbeRun.Failure failure : tally.failures()) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("role", failure.role());
      entry.put("endpoint", failure.endpoint());
      entry.put("reason", failure.reason());
      entry.put("count", failure.count());
      failures.add(entry);
    }
    result.put("failures", failures);
    try {
      return new ObjectMapper().disable(SerializationFeature.INDENT_OUTPUT)
          .writeValueAsString(result);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
