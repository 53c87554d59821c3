package dev.steelyard.admin;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.steelyard.admin.v1.AppList;
import dev.steelyard.admin.v1.AppState;
import dev.steelyard.admin.v1.Nack;
import dev.steelyard.admin.v1.ProxyList;
import dev.steelyard.admin.v1.ProxyState;
import dev.steelyard.admin.v1.ServerStatus;
import dev.steelyard.admin.v1.SetSplitRequest;
import dev.steelyard.admin.v1.Split;
import dev.steelyard.console.ConsoleRoutes;
import dev.steelyard.feedback.ProxyRegistry;
import dev.steelyard.analysis.MetricSources;
import dev.steelyard.analysis.Rejudge;
import dev.steelyard.analysis.SampleWindow;
import dev.steelyard.judge.JudgeConfig;
import dev.steelyard.judge.JudgeJson;
import dev.steelyard.judge.JudgeRequestException;
import dev.steelyard.judge.JudgeRequests;
import dev.steelyard.load.LoadStore;
import dev.steelyard.feedback.ProxyStatus;
import dev.steelyard.loop.BackgroundLoops;
import dev.steelyard.net.ConnectionLimit;
import dev.steelyard.net.RateLimitedLog;
import dev.steelyard.publish.PublishedState;
import dev.steelyard.publish.SnapshotPublisher;
import dev.steelyard.rollout.Flow;
import dev.steelyard.rollout.FlowException;
import dev.steelyard.rollout.FlowRequest;
import dev.steelyard.rollout.FlowStore;
import dev.steelyard.rollout.FlowViews;
import dev.steelyard.rollout.RolloutEngine;
import dev.steelyard.source.AppCatalog;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.InvalidSplitException;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.split.SplitStore;
import dev.steelyard.translate.ResourceNames;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppView;
import dev.steelyard.xds.XdsType;
import io.micrometer.core.instrument.Counter;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin REST API, JSON in and out (protobuf's JSON mapping of {@code proto/steelyard/admin}).
 * Errors are {@code {"error": "..."}} with 400, 401, 404 or 500. Mutating calls need the bearer
 * token when one is configured.
 */
public final class AdminServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
  private static final JsonFormat.Printer JSON =
      JsonFormat.printer().alwaysPrintFieldsWithNoPresence().sortingMapKeys();
  /**
   * Longer than two staged publishes (the one under way and this one), each up to two
   * make-before-break waits of SnapshotPublisher.STAGE_TIMEOUT.
   */
  private static final long PUBLISH_WAIT_SECONDS = 30;
  /** How the CLI introduces itself, so the log can tell its changes from other REST calls. */
  public static final String CLI_USER_AGENT_PREFIX = "steelyard-cli/";

  private final AppCatalog catalog;
  private final SplitStore splits;
  private final SnapshotPublisher publisher;
  private final ProxyRegistry proxies;
  private final PrometheusMeterRegistry meters;
  private final Optional<String> token;
  private final String version;
  private final Vertx vertx = Vertx.vertx();
  private final Object splitWriteLock = new Object();
  private final BackgroundLoops loops;
  /** Reads built on worker threads at once; the rest wait, so the event loop keeps a core. */
  private static final int HEAVY_AT_ONCE =
      Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
  private static final long HEAVY_WAIT_SECONDS = 20;
  private final Semaphore heavy = new Semaphore(HEAVY_AT_ONCE, true);
  private final Counter authFailures;
  private final RateLimitedLog authFailureLog = new RateLimitedLog(log, 6);
  private final RateLimitedLog connectionCapLog = new RateLimitedLog(log, 6);
  private ConnectionLimit connections;
  private final Optional<RolloutEngine> rollouts;
  private final LoadStore load;
  private final MetricSources sources;
  private HttpServer server;

  public AdminServer(AppCatalog catalog, SplitStore splits, SnapshotPublisher publisher,
      ProxyRegistry proxies, PrometheusMeterRegistry meters, Optional<String> token,
      String version, BackgroundLoops loops, Optional<RolloutEngine> rollouts,
      MetricSources sources) {
    this.sources = sources;
    this.load = sources.load();
    this.loops = loops;
    this.rollouts = rollouts;
    this.catalog = catalog;
    this.splits = splits;
    this.publisher = publisher;
    this.proxies = proxies;
    this.meters = meters;
    this.token = token;
    this.version = version;
    this.authFailures = Counter.builder("steelyard_admin_auth_failures_total")
        .description("Admin API calls refused for a missing or wrong token")
        .register(meters);
  }

  /** Binds and returns the port actually bound (useful with port 0), with the default limits. */
  public int start(String host, int port) throws Exception {
    return start(host, port, 1024, Duration.ofSeconds(60));
  }

  /**
   * Binds and returns the port actually bound. At most {@code maxConnections} are open at once
   * (one over it is closed as soon as it is accepted), and one idle for {@code idleTimeout} is
   * closed.
   */
  public int start(String host, int port, int maxConnections, Duration idleTimeout)
      throws Exception {
    connections = new ConnectionLimit("admin", maxConnections, meters);
    Router router = Router.router(vertx);
    get(router, "/healthz", ctx -> json(ctx, 200, new JsonObject().put("status", "ok")));
    get(router, "/readyz", this::ready);
    // Everything but the probes runs on worker threads (unordered, so one slow list does not
    // queue the others): /healthz and /readyz must answer at once whatever else runs; a list
    // of 5,000 apps on the event loop held /healthz for up to 38 s.
    blocking(router, "/metrics", ctx -> send(ctx, 200,
        "text/plain; version=0.0.4; charset=utf-8", meters.scrape()));
    blocking(router, "/api/v1/status", ctx -> safely(ctx, () -> proto(ctx, 200, status())));
    blocking(router, "/api/v1/apps", ctx -> safely(ctx, () -> proto(ctx, 200, apps(ctx))));
    blocking(router, "/api/v1/apps/:namespace/:name",
        ctx -> safely(ctx, () -> proto(ctx, 200, app(key(ctx)))));
    // The only route with a body; no file uploads, so nothing unauthenticated reaches the disk.
    router.put("/api/v1/apps/:namespace/:name/split")
        .handler(BodyHandler.create(false).setBodyLimit(64 * 1024))
        .blockingHandler(ctx -> safely(ctx, () -> proto(ctx, 200, setSplit(ctx))));
    methodNotAllowed(router, "/api/v1/apps/:namespace/:name/split", "PUT");
    rolloutRoutes(router);
    blocking(router, "/api/v1/apps/:namespace/:name/load", ctx -> safely(ctx, () -> {
      AppKey key = key(ctx);
      publisher.current().view().app(key)
          .orElseThrow(() -> new ApiException(404, "unknown app " + key));
      json(ctx, 200, LoadViews.load(load, key,
          LoadViews.window(ctx.request().getParam("window"), load), Instant.now()));
    }));
    JudgeRoutes.register(router, Optional.of(request -> {
      try {
        return SampleWindow.fetch(sources, request, Instant.now());
      } catch (IOException e) {
        throw new ApiException(502, "window: the metric source failed: " + e.getMessage());
      }
    }));
    blocking(router, "/api/v1/proxies",
        ctx -> safely(ctx, () -> proto(ctx, 200, proxyList())));
    ConsoleRoutes.register(router);
    router.route().last().handler(ctx -> error(ctx, 404,
        "no such endpoint: " + ctx.request().method() + " " + ctx.request().path()));
    router.route().failureHandler(ctx -> {
      int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
      String message = status == 413 ? "request body is larger than 64 KiB"
          : status == 405 ? "method not allowed"
          : ctx.failure() != null ? String.valueOf(ctx.failure().getMessage()) : "error";
      error(ctx, status, message);
    });
    HttpServerOptions options = new HttpServerOptions()
        // HTTP/1.1 only: with h2c on, Vert.x makes the connection (and calls the connection
        // handler that counts it) only after the first bytes, so a silent connection escaped
        // the cap.
        .setHttp2ClearTextEnabled(false)
        .setIdleTimeout((int) Math.max(1, idleTimeout.toMillis()))
        .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    server = vertx.createHttpServer(options)
        .connectionHandler(this::capped)
        .requestHandler(router).listen(port, host)
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return server.actualPort();
  }

  /** Counts a new connection against the cap, or closes it when the cap is reached. */
  private void capped(HttpConnection connection) {
    if (!connections.tryOpen()) {
      connectionCapLog.warn("admin connection from {} closed: {} connections are open, the cap "
          + "(--max-connections)", connection.remoteAddress(), connections.max());
      connection.close();
      return;
    }
    connection.closeHandler(ignored -> connections.closed());
  }

  /** A read-only resource: GET, and HEAD as GET without the body; other methods get 405. */
  private static void get(Router router, String path, Handler<RoutingContext> handler) {
    router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD).handler(handler);
    methodNotAllowed(router, path, "GET, HEAD");
  }

  /**
   * As {@link #get}, run on a worker thread, unordered, and at most {@link #HEAVY_AT_ONCE} at a
   * time: four lists of 5,000 apps at once took both cores and held the probes for 0.5 s.
   */
  private void blocking(Router router, String path, Handler<RoutingContext> handler) {
    router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD)
        .blockingHandler(ctx -> {
          boolean admitted;
          try {
            admitted = heavy.tryAcquire(HEAVY_WAIT_SECONDS, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            admitted = false;
          }
          if (!admitted) {
            ctx.response().putHeader("Retry-After", "1");
            error(ctx, 503, "busy: other admin requests are being answered; try again");
            return;
          }
          try {
            handler.handle(ctx);
          } finally {
            heavy.release();
          }
        }, false);
    methodNotAllowed(router, path, "GET, HEAD");
  }

  /** Registered after a path's own routes: the path exists, so this is 405, not 404. */
  private static void methodNotAllowed(Router router, String path, String allowed) {
    router.route(path).handler(ctx -> {
      ctx.response().putHeader("Allow", allowed);
      error(ctx, 405, "method " + ctx.request().method() + " is not allowed on "
          + ctx.request().path() + "; allowed: " + allowed);
    });
  }

  /**
   * Ready once the first snapshot is set and while every background loop runs: a replica whose
   * apps-file poller or publisher stopped serves a configuration that no longer follows changes.
   */
  private void ready(RoutingContext ctx) {
    if (publisher.current().generation() == 0) {
      json(ctx, 503, new JsonObject().put("status", "starting"));
      return;
    }
    List<String> stopped = loops.stopped();
    if (!stopped.isEmpty()) {
      json(ctx, 503, new JsonObject().put("status", "degraded")
          .put("stoppedLoops", new JsonArray(stopped)));
      return;
    }
    json(ctx, 200, new JsonObject().put("status", "ready"));
  }

  private ServerStatus status() {
    PublishedState published = publisher.current();
    ServerStatus.Builder status = ServerStatus.newBuilder()
        .setVersion(version)
        .setSource(catalog.describe())
        .setSourceError(catalog.lastError().orElse(""))
        .setAuthRequired(token.isPresent())
        .setApps(published.view().apps().size())
        .setProxies(proxies.proxies().size())
        .setPublishError(published.lastError().orElse(""))
        .addAllStoppedLoops(loops.stopped());
    published.versions().forEach((kind, versions) -> {
      for (XdsType type : XdsType.values()) {
        status.putSnapshotVersions(kind.label() + "/" + type.label(), versions.get(type));
      }
    });
    return status.build();
  }

  /**
   * The app list, linear in the apps listed: the mesh host names and the ACK counts are computed
   * once per published view. {@code ?namespace=}, {@code ?limit=} and {@code ?continue=} work as
   * in kubectl's lists; the token is the last key returned, so a page is read from the snapshot
   * current when it is asked for.
   */
  private AppList apps(RoutingContext ctx) {
    Optional<String> namespace = Optional.ofNullable(ctx.request().getParam("namespace"))
        .filter(value -> !value.isEmpty());
    int limit = limit(ctx.request().getParam("limit"));
    Optional<AppKey> after = continueKey(ctx.request().getParam("continue"));
    PublishedState published = publisher.current();
    List<AppView> apps = published.view().apps();
    int from = 0;
    if (after.isPresent()) {
      List<AppKey> keys = apps.stream().map(AppView::key).toList();
      int found = Collections.binarySearch(keys, after.get());
      from = found >= 0 ? found + 1 : -found - 1;
    }
    var progress = proxies.routesProgress(published.snapshots());
    Map<AppKey, List<String>> meshHosts = ResourceNames.meshHosts(published.view());
    AppList.Builder list = AppList.newBuilder();
    for (int i = from; i < apps.size(); i++) {
      AppView app = apps.get(i);
      if (namespace.isPresent() && !app.key().namespace().equals(namespace.get())) {
        continue;
      }
      if (list.getAppsCount() == limit) {
        list.setContinue(continueToken(apps.get(i - 1).key()));
        break;
      }
      list.addApps(AppStates.of(app, published, progress,
          meshHosts.getOrDefault(app.key(), List.of()), catalog.notices(app.key())));
    }
    return list.build();
  }

  private static int limit(String value) {
    if (value == null || value.isEmpty()) {
      return Integer.MAX_VALUE;
    }
    try {
      int limit = Integer.parseInt(value);
      if (limit >= 1) {
        return limit;
      }
    } catch (NumberFormatException e) {
      // Reported below.
    }
    throw new ApiException(400, "limit must be a whole number of at least 1, got '"
        + value + "'");
  }

  private static String continueToken(AppKey last) {
    return Base64.getUrlEncoder().withoutPadding()
        .encodeToString(last.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static Optional<AppKey> continueKey(String token) {
    if (token == null || token.isEmpty()) {
      return Optional.empty();
    }
    try {
      String key = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      int slash = key.indexOf('/');
      if (slash > 0 && slash < key.length() - 1) {
        return Optional.of(new AppKey(key.substring(0, slash), key.substring(slash + 1)));
      }
    } catch (IllegalArgumentException e) {
      // Reported below.
    }
    throw new ApiException(400, "continue must be a token from a previous page's continue "
        + "field");
  }

  private AppState app(AppKey key) {
    PublishedState published = publisher.current();
    AppView app = published.view().app(key)
        .orElseThrow(() -> new ApiException(404, "unknown app " + key));
    return AppStates.of(app, published, proxies.routesProgress(published.snapshots()),
        ResourceNames.meshHosts(published.view()).getOrDefault(key, List.of()),
        catalog.notices(key));
  }

  private AppState setSplit(RoutingContext ctx) {
    requireToken(ctx);
    AppKey key = key(ctx);
    if (catalog.apps().stream().noneMatch(spec -> spec.key().equals(key))) {
      throw new ApiException(404, "unknown app " + key);
    }
    SplitBody body = parse(ctx.body().asString());
    boolean force = "true".equals(ctx.request().getParam("force"));
    Optional<String> owner = rollouts.flatMap(engine -> engine.owner(key));
    if (owner.isPresent() && !force) {
      throw new ApiException(409, owner.get());
    }
    synchronized (splitWriteLock) {
      AppSplits stored = storeSplit(key, body, caller(ctx));
      if (owner.isPresent()) {
        log.warn("split of {} forced over its rollout flow by {}", key, caller(ctx));
        rollouts.get().recordForcedSplit(key, describe(stored), caller(ctx));
      }
    }
    long ticket = publisher.requestPublish();
    PublishedState published;
    try {
      published = publisher.whenPublished(ticket).get(PUBLISH_WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new ApiException(500, "split stored but not yet published after "
          + PUBLISH_WAIT_SECONDS + " s");
    } catch (InterruptedException | ExecutionException e) {
      throw new ApiException(500, "split stored but publishing failed: " + e.getMessage());
    }
    if (published.lastError().isPresent()) {
      throw new ApiException(500, "split stored, but the new configuration was "
          + published.lastError().get());
    }
    return app(key);
  }

  /**
   * Who changed traffic, for the log: with a token configured, only its holder gets here; the
   * CLI says so in its User-Agent.
   */
  private String caller(RoutingContext ctx) {
    String userAgent = String.valueOf(ctx.request().getHeader("User-Agent"));
    return (token.isPresent() ? "the admin token" : "unauthenticated")
        + (userAgent.startsWith(CLI_USER_AGENT_PREFIX) ? " via CLI" : " via REST")
        + " from " + ctx.request().remoteAddress();
  }

  /** Read-modify-write of one app's splits; the caller holds the write lock. */
  private AppSplits storeSplit(AppKey key, SplitBody body, String caller) {
    SetSplitRequest request = body.request();
    AppSplits previous = splits.get(key);
    AppSplits next;
    try {
      boolean meshGiven = !request.getMode().isEmpty() || request.hasCanaryWeight();
      if (!meshGiven && !request.hasGateway() && !request.getGatewayFollowsMesh()) {
        throw new InvalidSplitException("mode is required: off, test or deploy (to change only "
            + "the gateway split, send gateway or gatewayFollowsMesh alone)");
      }
      // Without mode and weight the mesh split stays, so the gateway can change on its own.
      SplitPolicy mesh = meshGiven
          ? SplitPolicy.of(request.getMode(), body.meshWeight())
          : previous.mesh();
      Optional<SplitPolicy> gateway;
      if (request.hasGateway() && request.getGatewayFollowsMesh()) {
        throw new InvalidSplitException("set either gateway or gatewayFollowsMesh, not both");
      } else if (request.hasGateway()) {
        gateway = Optional.of(gatewayPolicy(request.getGateway(), body.gatewayWeight()));
      } else if (request.getGatewayFollowsMesh()) {
        gateway = Optional.empty();
      } else {
        gateway = previous.gatewayOverride();
      }
      next = new AppSplits(mesh, gateway);
    } catch (InvalidSplitException e) {
      throw new ApiException(400, e.getMessage());
    }
    try {
      splits.set(key, next);
    } catch (IOException e) {
      log.error("cannot store the split of {}", key, e);
      throw new ApiException(500, "cannot store the split: " + e.getMessage());
    }
    log.info("split of {} set to {} (was {}) by {}", key, describe(next), describe(previous),
        caller);
    return next;
  }

  private static String describe(AppSplits splits) {
    return "mesh " + splits.mesh() + ", gateway "
        + splits.gatewayOverride().map(Object::toString).orElse("following mesh");
  }

  private static SplitPolicy gatewayPolicy(Split split, Optional<BigDecimal> weight)
      throws InvalidSplitException {
    try {
      return SplitPolicy.of(split.getMode(), weight);
    } catch (InvalidSplitException e) {
      throw new InvalidSplitException("gateway: " + e.getMessage());
    }
  }

  /**
   * A split request with its weights exactly as written: protobuf's JSON mapping reads numbers
   * into doubles, so the weights come from the strict parse, never from {@code request}.
   */
  private record SplitBody(SetSplitRequest request, Optional<BigDecimal> meshWeight,
      Optional<BigDecimal> gatewayWeight) {}

  private static SplitBody parse(String text) {
    ObjectNode body = StrictJson.object(text, "{\"mode\":\"test\",\"canaryWeight\":10}");
    SetSplitRequest request = StrictJson.merge(body, SetSplitRequest.newBuilder()).build();
    Optional<BigDecimal> mesh =
        StrictJson.decimal(body, "canaryWeight", "canary_weight", "canaryWeight");
    Optional<BigDecimal> gateway = Optional.empty();
    if (body.get("gateway") instanceof ObjectNode gatewayNode) {
      gateway = StrictJson.decimal(gatewayNode, "canaryWeight", "canary_weight",
          "gateway.canaryWeight");
    }
    return new SplitBody(request, mesh, gateway);
  }

  // -----------------------------------------------------------------------------------------
  // Rollout flows: /api/v1/apps/{namespace}/{name}/rollout

  private static final String ROLLOUT = "/api/v1/apps/:namespace/:name/rollout";

  private void rolloutRoutes(Router router) {
    router.get(ROLLOUT + "/history").handler(ctx -> safely(ctx, () -> {
      AppKey key = key(ctx);
      json(ctx, 200, Map.of("app", key.toString(), "history", engine().history(key)));
    }));
    methodNotAllowed(router, ROLLOUT + "/history", "GET");
    router.get(ROLLOUT).handler(ctx -> safely(ctx, () -> {
      AppKey key = key(ctx);
      Flow flow = engine().latest(key).orElseThrow(() -> new ApiException(404,
          "no flow has run for " + key + "; start one with POST " + ctx.request().path()));
      json(ctx, 200, flowStatus(flow));
    }));
    router.post(ROLLOUT).handler(BodyHandler.create(false).setBodyLimit(64 * 1024))
        .blockingHandler(ctx -> safely(ctx, () -> {
          requireToken(ctx);
          FlowRequest request = body(ctx, FlowRequest.class,
              "{\"kind\":\"deploy\",\"version\":\"v2\"}");
          Flow flow = flowCall(() -> engine().start(key(ctx), request, caller(ctx)));
          json(ctx, 201, flowStatus(flow));
        }));
    methodNotAllowed(router, ROLLOUT, "GET, POST");
    for (String action : List.of("approve", "rollback", "abort", "end")) {
      router.post(ROLLOUT + "/" + action).blockingHandler(ctx -> safely(ctx, () -> {
        requireToken(ctx);
        AppKey key = key(ctx);
        String by = caller(ctx);
        Flow flow = flowCall(() -> switch (action) {
          case "approve" -> engine().approve(key, by);
          case "rollback" -> engine().rollback(key, by);
          case "abort" -> engine().abort(key, by);
          default -> engine().endTest(key, by);
        });
        json(ctx, 200, flowStatus(flow));
      }));
      methodNotAllowed(router, ROLLOUT + "/" + action, "POST");
    }
    // Read-only: a stored step's samples judged with another config; the flow is not touched.
    router.post(ROLLOUT + "/history/:step/rejudge")
        .handler(BodyHandler.create(false).setBodyLimit(256 * 1024))
        .blockingHandler(ctx -> safely(ctx, () -> json(ctx, 200, rejudge(ctx))));
    methodNotAllowed(router, ROLLOUT + "/history/:step/rejudge", "POST");
    router.put(ROLLOUT + "/weight").handler(BodyHandler.create(false).setBodyLimit(4 * 1024))
        .blockingHandler(ctx -> safely(ctx, () -> {
          requireToken(ctx);
          WeightRequest request = body(ctx, WeightRequest.class, "{\"weight\":20}");
          if (request.weight() == null) {
            throw new ApiException(400, "weight is required (percent to the canary)");
          }
          Flow flow = flowCall(() -> engine().setWeight(key(ctx), request.weight(),
              caller(ctx)));
          json(ctx, 200, flowStatus(flow));
        }));
    methodNotAllowed(router, ROLLOUT + "/weight", "PUT");
  }

  private Map<String, Object> rejudge(RoutingContext ctx) {
    AppKey key = key(ctx);
    int step;
    try {
      step = Integer.parseInt(ctx.pathParam("step"));
    } catch (NumberFormatException e) {
      throw new ApiException(400, "step must be a step number (1 for the first), not '"
          + ctx.pathParam("step") + "'");
    }
    String flowId = ctx.request().getParam("flow");
    Flow flow = flowId == null
        ? engine().latest(key).orElseThrow(() -> new ApiException(404, "no flow has run for "
            + key))
        : engine().flows(key).stream().filter(f -> f.id().equals(flowId)).findFirst()
            .orElseThrow(() -> new ApiException(404, "no kept flow " + flowId + " of " + key));
    ObjectNode body = StrictJson.object(ctx.body().asString(),
        "{\"config\": {\"metrics\": [...]}}");
    JudgeConfig config;
    try {
      if (!body.has("config") || body.size() != 1) {
        throw new JudgeRequestException("the body is {\"config\": {...}}, the configuration "
            + "to judge the stored samples with");
      }
      config = JudgeRequests.parseConfig(body.get("config"), "config");
    } catch (JudgeRequestException e) {
      throw new ApiException(400, "malformed request: " + e.getMessage());
    }
    Rejudge.Outcome outcome = Rejudge.step(flow, step, config).orElseThrow(() ->
        new ApiException(404, "step " + step + " of flow " + flow.id() + " has no automatic "
            + "verdict with evidence to judge again"));
    Map<String, Object> answer = new java.util.LinkedHashMap<>();
    answer.put("flowId", outcome.flowId());
    answer.put("step", outcome.step());
    answer.put("stored", Map.of("at", outcome.stored().at().toString(),
        "detail", outcome.stored().detail(),
        "outcome", outcome.stored().evidence().metrics() == null ? "none"
            : outcome.stored().evidence().metrics().outcome().name()
                .toLowerCase(java.util.Locale.ROOT)));
    answer.put("rejudged", JudgeJson.render(outcome.rejudged()));
    answer.put("changed", outcome.changed());
    answer.put("missingSamples", outcome.missingSamples());
    return answer;
  }

  /** Body of PUT .../rollout/weight. */
  record WeightRequest(Double weight) {}

  private RolloutEngine engine() {
    return rollouts.orElseThrow(() -> new ApiException(501,
        "rollout flows are not available on this server (Kubernetes mode has no workload "
            + "driver yet)"));
  }

  private interface FlowCall {
    Flow call() throws FlowException, IOException;
  }

  private static Flow flowCall(FlowCall call) {
    try {
      return call.call();
    } catch (FlowException e) {
      throw new ApiException(e.status(), e.getMessage());
    } catch (IOException e) {
      log.error("cannot persist a rollout flow", e);
      throw new ApiException(500, "cannot persist the flow: " + e.getMessage());
    }
  }

  private Map<String, Object> flowStatus(Flow flow) {
    RolloutEngine engine = engine();
    PublishedState published = publisher.current();
    var effective = published.view().app(flow.app()).map(app -> app.mesh().effective())
        .orElse(null);
    return FlowViews.status(flow, engine.observe(flow), effective, engine.driverDescription(),
        engine.driverError(flow.app()).orElse(""));
  }

  private static <T> T body(RoutingContext ctx, Class<T> type, String example) {
    // The same strict syntax as a split: duplicate keys, trailing data, single quotes are 400.
    ObjectNode tree = StrictJson.object(ctx.body().asString(), example);
    try {
      return FlowStore.JSON.treeToValue(tree, type);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new ApiException(400, "malformed request: " + e.getOriginalMessage());
    }
  }

  private static void json(RoutingContext ctx, int status, Object body) {
    try {
      send(ctx, status, "application/json", FlowStore.JSON.writeValueAsString(body) + "\n");
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private ProxyList proxyList() {
    ProxyList.Builder list = ProxyList.newBuilder();
    for (ProxyStatus proxy : proxies.proxies()) {
      ProxyState.Builder state = ProxyState.newBuilder()
          .setNodeId(proxy.nodeId())
          .setCluster(proxy.cluster())
          .setKind(proxy.kind().label())
          .setApp(proxy.app())
          .setUserAgent(proxy.userAgent())
          .putAllAckedVersions(proxy.ackedVersionsByLabel())
          .setConnectedAt(proxy.connectedAt().toString())
          .setAuthenticated(proxy.peer().authenticated())
          .setAuthMethod(proxy.peer().method())
          .setIdentity(proxy.peer().method().equals("certificate") ? proxy.peer().identity() : "")
          .setStreams(proxy.streams())
          .setCalls(proxy.group().scoped() ? proxy.group().scope().label() : "");
      proxy.lastNack().ifPresent(nack -> state.setLastNack(Nack.newBuilder()
          .setType(nack.type().label())
          .setRejectedVersion(nack.rejectedVersion())
          .setMessage(nack.message())
          .setAt(nack.at().toString())));
      list.addProxies(state);
    }
    return list.build();
  }

  private void requireToken(RoutingContext ctx) {
    if (token.isEmpty()) {
      return;
    }
    Optional<String> presented = bearerToken(ctx.request().getHeader("Authorization"));
    if (presented.isEmpty() || !MessageDigest.isEqual(
        presented.get().getBytes(StandardCharsets.UTF_8),
        token.get().getBytes(StandardCharsets.UTF_8))) {
      authFailures.increment();
      String why = presented.isEmpty() ? "no bearer token" : "a wrong token";
      authFailureLog.warn("refused {} {} from {}: {} (counted in "
          + "steelyard_admin_auth_failures_total)", ctx.request().method(), ctx.request().path(),
          ctx.request().remoteAddress(), why);
      throw new ApiException(401, "this call changes traffic and needs "
          + "'Authorization: Bearer <token>' with the server's admin token");
    }
  }

  /** The credentials of a Bearer header; the scheme is case-insensitive (RFC 9110, 11.1). */
  static Optional<String> bearerToken(String header) {
    if (header == null) {
      return Optional.empty();
    }
    String trimmed = header.strip();
    int space = trimmed.indexOf(' ');
    if (space < 0 || !trimmed.substring(0, space).equalsIgnoreCase("Bearer")) {
      return Optional.empty();
    }
    return Optional.of(trimmed.substring(space + 1).strip()).filter(value -> !value.isEmpty());
  }

  private static AppKey key(RoutingContext ctx) {
    return new AppKey(ctx.pathParam("namespace"), ctx.pathParam("name"));
  }

  private interface Action {
    void run() throws Exception;
  }

  private static void safely(RoutingContext ctx, Action action) {
    try {
      action.run();
    } catch (ApiException e) {
      error(ctx, e.status, e.getMessage());
    } catch (Exception e) {
      log.error("admin request {} {} failed", ctx.request().method(), ctx.request().path(), e);
      error(ctx, 500, "internal error: " + e.getMessage());
    }
  }

  private static void proto(RoutingContext ctx, int status, Message message)
      throws InvalidProtocolBufferException {
    send(ctx, status, "application/json", JSON.print(message) + "\n");
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    send(ctx, status, "application/json", body.encode() + "\n");
  }

  /** Every answer goes out here; a HEAD request gets the headers of its GET, not the body. */
  private static void send(RoutingContext ctx, int status, String contentType, String body) {
    ctx.response().setStatusCode(status).putHeader("content-type", contentType);
    if (ctx.request().method() == HttpMethod.HEAD) {
      ctx.response().putHeader("content-length",
          String.valueOf(body.getBytes(StandardCharsets.UTF_8).length)).end();
    } else {
      ctx.response().end(body);
    }
  }

  private static void error(RoutingContext ctx, int status, String message) {
    if (!ctx.response().ended()) {
      json(ctx, status, new JsonObject().put("error", message));
    }
  }

  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("admin server did not close cleanly: {}", e.toString());
    }
  }
}
