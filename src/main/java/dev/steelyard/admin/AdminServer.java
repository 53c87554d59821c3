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
import dev.steelyard.feedback.ProxyRegistry;
import dev.steelyard.feedback.ProxyStatus;
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
import dev.steelyard.split.SplitProtos;
import dev.steelyard.split.InvalidSplitException;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.split.SplitStore;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppView;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.ExecutionException;
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
  private final Optional<RolloutEngine> rollouts;
  private HttpServer server;

  public AdminServer(AppCatalog catalog, SplitStore splits, SnapshotPublisher publisher,
      ProxyRegistry proxies, PrometheusMeterRegistry meters, Optional<String> token,
      String version, Optional<RolloutEngine> rollouts) {
    this.rollouts = rollouts;
    this.catalog = catalog;
    this.splits = splits;
    this.publisher = publisher;
    this.proxies = proxies;
    this.meters = meters;
    this.token = token;
    this.version = version;
  }

  /** Binds and returns the port actually bound (useful with port 0). */
  public int start(String host, int port) throws Exception {
    Router router = Router.router(vertx);
    get(router, "/healthz", ctx -> json(ctx, 200, new JsonObject().put("status", "ok")));
    get(router, "/readyz", this::ready);
    get(router, "/metrics", ctx -> send(ctx, 200, "text/plain; version=0.0.4; charset=utf-8",
        meters.scrape()));
    get(router, "/api/v1/status", ctx -> safely(ctx, () -> proto(ctx, 200, status())));
    get(router, "/api/v1/apps", ctx -> safely(ctx, () -> proto(ctx, 200, apps())));
    get(router, "/api/v1/apps/:namespace/:name",
        ctx -> safely(ctx, () -> proto(ctx, 200, app(key(ctx)))));
    // The only route with a body; no file uploads, so nothing unauthenticated reaches the disk.
    router.put("/api/v1/apps/:namespace/:name/split")
        .handler(BodyHandler.create(false).setBodyLimit(64 * 1024))
        .blockingHandler(ctx -> safely(ctx, () -> proto(ctx, 200, setSplit(ctx))));
    methodNotAllowed(router, "/api/v1/apps/:namespace/:name/split", "PUT");
    rolloutRoutes(router);
    get(router, "/api/v1/proxies", ctx -> safely(ctx, () -> proto(ctx, 200, proxyList())));
    router.route().last().handler(ctx -> error(ctx, 404,
        "no such endpoint: " + ctx.request().method() + " " + ctx.request().path()));
    router.route().failureHandler(ctx -> {
      int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
      String message = status == 413 ? "request body is larger than 64 KiB"
          : status == 405 ? "method not allowed"
          : ctx.failure() != null ? String.valueOf(ctx.failure().getMessage()) : "error";
      error(ctx, status, message);
    });
    server = vertx.createHttpServer().requestHandler(router).listen(port, host)
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return server.actualPort();
  }

  /** A read-only resource: GET, and HEAD as GET without the body; other methods get 405. */
  private static void get(Router router, String path, Handler<RoutingContext> handler) {
    router.route(path).method(HttpMethod.GET).method(HttpMethod.HEAD).handler(handler);
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

  private void ready(RoutingContext ctx) {
    boolean ready = publisher.current().generation() > 0;
    json(ctx, ready ? 200 : 503, new JsonObject().put("status", ready ? "ready" : "starting"));
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
        .setPublishError(published.lastError().orElse(""));
    published.versions().forEach((kind, versions) -> {
      for (String type : List.of("clusters", "endpoints", "listeners", "routes")) {
        status.putSnapshotVersions(kind.label() + "/" + type, versions.get(type));
      }
    });
    return status.build();
  }

  private AppList apps() {
    PublishedState published = publisher.current();
    var progress = proxies.routesProgress(published);
    AppList.Builder list = AppList.newBuilder();
    for (AppView app : published.view().apps()) {
      list.addApps(AppStates.of(app, published, progress,
          catalog.notices(app.key())));
    }
    return list.build();
  }

  private AppState app(AppKey key) {
    PublishedState published = publisher.current();
    AppView app = published.view().app(key)
        .orElseThrow(() -> new ApiException(404, "unknown app " + key));
    return AppStates.of(app, published, proxies.routesProgress(published),
        catalog.notices(key));
  }

  private AppState setSplit(RoutingContext ctx) {
    requireToken(ctx);
    AppKey key = key(ctx);
    if (catalog.apps().stream().noneMatch(spec -> spec.key().equals(key))) {
      throw new ApiException(404, "unknown app " + key);
    }
    SetSplitRequest request = parse(ctx.body().asString());
    boolean force = "true".equals(ctx.request().getParam("force"));
    Optional<String> owner = rollouts.flatMap(engine -> engine.owner(key));
    if (owner.isPresent() && !force) {
      throw new ApiException(409, owner.get());
    }
    synchronized (splitWriteLock) {
      AppSplits stored = storeSplit(key, request, caller(ctx));
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
  private AppSplits storeSplit(AppKey key, SetSplitRequest request, String caller) {
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
          ? SplitPolicy.of(request.getMode(), request.hasCanaryWeight()
              ? OptionalDouble.of(request.getCanaryWeight()) : OptionalDouble.empty())
          : previous.mesh();
      Optional<SplitPolicy> gateway;
      if (request.hasGateway() && request.getGatewayFollowsMesh()) {
        throw new InvalidSplitException("set either gateway or gatewayFollowsMesh, not both");
      } else if (request.hasGateway()) {
        gateway = Optional.of(gatewayPolicy(request.getGateway()));
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

  private static SplitPolicy gatewayPolicy(Split split) throws InvalidSplitException {
    try {
      return SplitProtos.fromRequest(split);
    } catch (InvalidSplitException e) {
      throw new InvalidSplitException("gateway: " + e.getMessage());
    }
  }

  private static SetSplitRequest parse(String body) {
    if (body == null || body.isBlank()) {
      throw new ApiException(400, "request body is empty; expected JSON such as "
          + "{\"mode\":\"test\",\"canaryWeight\":10}");
    }
    SetSplitRequest.Builder request = SetSplitRequest.newBuilder();
    try {
      JsonFormat.parser().merge(body, request);
    } catch (InvalidProtocolBufferException e) {
      throw new ApiException(400, "malformed request: " + e.getMessage());
    }
    return request.build();
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
    String body = ctx.body().asString();
    if (body == null || body.isBlank()) {
      throw new ApiException(400, "request body is empty; expected JSON such as " + example);
    }
    try {
      return FlowStore.JSON.readValue(body, type);
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
          .putAllAckedVersions(proxy.ackedVersions())
          .setConnectedAt(proxy.connectedAt().toString());
      proxy.lastNack().ifPresent(nack -> state.setLastNack(Nack.newBuilder()
          .setType(nack.type())
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
