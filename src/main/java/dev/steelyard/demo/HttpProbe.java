package dev.steelyard.demo;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import io.vertx.core.net.SocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends HTTP requests through an Envoy (gateway or sidecar) with a given {@code Host} and counts
 * which role answered each, from the backends' {@value RoleBackend#ROLE_HEADER} header. What it
 * prints is what the mesh's HTTP clients see.
 */
public final class HttpProbe implements AutoCloseable {

  /** Counts by role; other answers are counted as {@code HTTP <status>} or {@code error: ...}. */
  public record Result(Map<String, Integer> counts, int total) {
    public int failed() {
      return counts.entrySet().stream().filter(entry -> !isRole(entry.getKey()))
          .mapToInt(Map.Entry::getValue).sum();
    }
  }

  private final Vertx vertx;
  private final HttpClient client;
  private final int concurrency;

  public HttpProbe(int concurrency) {
    this.concurrency = concurrency;
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    this.client = vertx.createHttpClient(new PoolOptions().setHttp1MaxSize(concurrency));
  }

  static boolean isRole(String key) {
    return !key.startsWith("HTTP ") && !key.startsWith("error: ");
  }

  /** One GET to {@code 127.0.0.1:port} with {@code Host: host}; completes with the outcome key. */
  public CompletableFuture<String> send(int port, String host, String path, Duration timeout) {
    return send("127.0.0.1", port, host, path, timeout);
  }

  /** One GET to {@code address:port} with {@code Host: host}; completes with the outcome key. */
  public CompletableFuture<String> send(String address, int port, String host, String path,
      Duration timeout) {
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.GET)
        .setServer(SocketAddress.inetSocketAddress(port, address))
        .setURI(path)
        .setConnectTimeout(timeout.toMillis())
        .setIdleTimeout(timeout.toMillis());
    Future<String> outcome = client.request(options)
        // The Host header exactly as given: Vert.x would otherwise add the port it connects to.
        .compose(request -> request.authority(HostAndPort.parseAuthority(host, -1)).send())
        .compose(response -> response.body().map(body -> outcome(response, body.toString())))
        .recover(failure -> Future.succeededFuture("error: " + describe(failure)));
    // The idle timeout does not cover a request waiting for a pooled connection: a hard limit.
    CompletableFuture<String> answer = new CompletableFuture<>();
    long timer = vertx.setTimer(timeout.toMillis(),
        id -> answer.complete("error: no answer within " + timeout.toMillis() + " ms"));
    outcome.onComplete(result -> {
      vertx.cancelTimer(timer);
      answer.complete(result.succeeded() ? result.result()
          : "error: " + describe(result.cause()));
    });
    return answer;
  }

  /** The role, or the status with Envoy's one-line reason ("no healthy upstream", ...). */
  private static String outcome(HttpClientResponse response, String body) {
    String role = response.getHeader(RoleBackend.ROLE_HEADER);
    if (response.statusCode() / 100 == 2 && role != null) {
      return role;
    }
    String reason = body.lines().findFirst().orElse("").strip();
    if (reason.length() > 80) {
      reason = reason.substring(0, 80) + "...";
    }
    return "HTTP " + response.statusCode() + (reason.isEmpty() ? "" : " " + reason);
  }

  private static String describe(Throwable failure) {
    String message = failure.getMessage();
    return message == null ? failure.getClass().getSimpleName() : message;
  }

  /** {@code requests} GETs, {@code concurrency} at a time; returns the counts. */
  public Result run(int port, String host, String path, int requests, Duration timeout)
      throws InterruptedException {
    Map<String, Integer> counts = new ConcurrentHashMap<>();
    AtomicInteger started = new AtomicInteger();
    CompletableFuture<Void> done = new CompletableFuture<>();
    AtomicInteger finished = new AtomicInteger();
    Runnable[] next = new Runnable[1];
    next[0] = () -> {
      if (started.getAndIncrement() >= requests) {
        return;
      }
      send(port, host, path, timeout).thenAccept(key -> {
        counts.merge(key, 1, Integer::sum);
        if (finished.incrementAndGet() == requests) {
          done.complete(null);
        } else {
          next[0].run();
        }
      });
    };
    for (int i = 0; i < Math.min(concurrency, requests); i++) {
      next[0].run();
    }
    try {
      done.get(requests * timeout.toMillis() / concurrency + timeout.toMillis() * 2,
          TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("probe did not finish: " + finished.get() + " of "
          + requests + " answered", e);
    }
    return new Result(new TreeMap<>(counts), requests);
  }

  @Override
  public void close() {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // best effort on shutdown
    }
  }
}
