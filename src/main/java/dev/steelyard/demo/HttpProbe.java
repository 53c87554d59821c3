package dev.steelyard.demo;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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

  static {
    // Envoy routes by Host, so the probe must send the app's host, not the address it dials;
    // the JDK client refuses to set Host unless this is set before its first use (the CLI's
    // main and the test JVM's argLine set it too, in case something used the client earlier).
    System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
  }

  private final HttpClient client;
  private final ExecutorService executor;
  private final int concurrency;

  public HttpProbe(int concurrency) {
    this.concurrency = concurrency;
    this.executor = Executors.newFixedThreadPool(2, runnable -> {
      Thread thread = new Thread(runnable, "steelyard-http-probe");
      thread.setDaemon(true);
      return thread;
    });
    // HTTP/1.1, as an app talking to its sidecar or a browser to a gateway would. (A Vert.x
    // 5.0.7 client here left about one request in 4,000 unanswered, against a Vert.x and a JDK
    // server alike.)
    this.client = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(2))
        .executor(executor)
        .build();
  }

  /** Whether an outcome key names a role that answered, rather than a failure. */
  public static boolean isRole(String key) {
    return !key.startsWith("HTTP ") && !key.startsWith("error: ");
  }

  /** One GET to {@code 127.0.0.1:port} with {@code Host: host}; completes with the outcome key. */
  public CompletableFuture<String> send(int port, String host, String path, Duration timeout) {
    return send("127.0.0.1", port, host, path, timeout);
  }

  /** One GET to {@code address:port} with {@code Host: host}; completes with the outcome key. */
  public CompletableFuture<String> send(String address, int port, String host, String path,
      Duration timeout) {
    String authority = address.contains(":") ? "[" + address + "]:" + port : address + ":" + port;
    HttpRequest request;
    try {
      request = HttpRequest.newBuilder(URI.create("http://" + authority + path))
          .header("Host", host)
          .timeout(timeout)
          .GET()
          .build();
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture("error: " + describe(e));
    }
    // The request's timeout ends when the headers arrive; orTimeout bounds the body too.
    return client.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .handle((response, failure) -> {
          if (failure == null) {
            return outcome(response);
          }
          Throwable cause = failure instanceof java.util.concurrent.CompletionException
              && failure.getCause() != null ? failure.getCause() : failure;
          return cause instanceof HttpTimeoutException
              || cause instanceof java.util.concurrent.TimeoutException
              ? "error: no answer within " + timeout.toMillis() + " ms"
              : "error: " + describe(cause);
        });
  }

  /** The role, or the status with Envoy's one-line reason ("no healthy upstream", ...). */
  private static String outcome(HttpResponse<String> response) {
    Optional<String> role = response.headers().firstValue(RoleBackend.ROLE_HEADER);
    if (response.statusCode() / 100 == 2 && role.isPresent()) {
      return role.get();
    }
    String reason = response.body().lines().findFirst().orElse("").strip();
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
    executor.shutdownNow();
  }
}
