package dev.steelyard.admin;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.steelyard.judge.CanaryJudge;
import dev.steelyard.judge.JudgeJson;
import dev.steelyard.judge.JudgeRequest;
import dev.steelyard.judge.JudgeRequestException;
import dev.steelyard.judge.JudgeRequests;
import dev.steelyard.judge.JudgeResult;
import dev.steelyard.judge.Samples;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /api/v1/judge}: a standalone judgment of inline samples (issue 18). Read-only, so
 * no token, like the other reads. A request with a {@code window} needs a {@link SampleFetcher}
 * (the metric sources); without one it is answered 501.
 */
final class JudgeRoutes {

  static final String PATH = "/api/v1/judge";
  /** Two sides of {@link JudgeRequests#MAX_SAMPLES} numbers for several metrics fit. */
  static final int BODY_LIMIT = 1024 * 1024;
  private static final Logger log = LoggerFactory.getLogger(JudgeRoutes.class);
  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final String EXAMPLE = "{\"config\": {\"metrics\": [{\"name\": \"latency\", "
      + "\"group\": \"performance\", \"direction\": \"increase\"}]}, \"samples\": {\"latency\": "
      + "{\"baseline\": [1, 2], \"canary\": [3, 4]}}}";

  /** Fetches the samples of a request's metrics over its window (Prometheus, load reports). */
  interface SampleFetcher {
    Map<String, Samples> fetch(JudgeRequest request);
  }

  private JudgeRoutes() {}

  static void register(Router router, Optional<SampleFetcher> fetcher) {
    router.post(PATH).handler(BodyHandler.create(false).setBodyLimit(BODY_LIMIT))
        .blockingHandler(ctx -> judge(ctx, fetcher), false)
        .failureHandler(ctx -> send(ctx, ctx.statusCode() == 413 ? 413 : 500, error(
            ctx.statusCode() == 413 ? "request body is larger than 1 MiB"
                : String.valueOf(ctx.failure()))));
    router.route(PATH).handler(ctx -> {
      ctx.response().putHeader("Allow", "POST");
      send(ctx, 405, error("method " + ctx.request().method() + " is not allowed on " + PATH
          + "; allowed: POST"));
    });
  }

  private static void judge(RoutingContext ctx, Optional<SampleFetcher> fetcher) {
    try {
      ObjectNode body = StrictJson.object(ctx.body().asString(), EXAMPLE);
      JudgeRequest request = JudgeRequests.parse(body);
      Map<String, Samples> samples = new HashMap<>(request.samples());
      if (request.window() != null) {
        SampleFetcher source = fetcher.orElseThrow(() -> new ApiException(501,
            "window: fetching samples from metric sources is not available on this server; "
                + "give the samples inline"));
        source.fetch(request).forEach(samples::putIfAbsent);
      }
      JudgeResult result = CanaryJudge.judge(request.config(), samples);
      send(ctx, 200, JSON.writerWithDefaultPrettyPrinter()
          .writeValueAsString(JudgeJson.render(result)) + "\n");
    } catch (JudgeRequestException e) {
      send(ctx, 400, error("malformed request: " + e.getMessage()));
    } catch (ApiException e) {
      send(ctx, e.status, error(e.getMessage()));
    } catch (Exception e) {
      log.error("judge request failed", e);
      send(ctx, 500, error("internal error: " + e.getMessage()));
    }
  }

  private static String error(String message) {
    return JSON.createObjectNode().put("error", message).toString() + "\n";
  }

  private static void send(RoutingContext ctx, int status, String body) {
    if (!ctx.response().ended()) {
      ctx.response().setStatusCode(status).putHeader("content-type", "application/json")
          .end(body);
    }
  }
}
