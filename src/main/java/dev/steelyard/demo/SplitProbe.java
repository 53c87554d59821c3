package dev.steelyard.demo;

import dev.steelyard.demo.v1.WhoAreYouReply;
import dev.steelyard.demo.v1.WhoAreYouRequest;
import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ClientStreamTracer;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.NameResolverRegistry;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.grpc.xds.XdsNameResolverProvider;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends requests through a real proxyless gRPC xDS channel and counts which role answered each.
 * What it prints is what the mesh's clients see.
 */
public final class SplitProbe {

  /** Counts by role; failed calls are counted under "error: CODE". */
  public record Result(Map<String, Integer> counts, int total) {}

  private static final AtomicInteger SCHEMES = new AtomicInteger();
  private static final Map<ManagedChannel, XdsNameResolverProvider> PROVIDERS =
      new java.util.concurrent.ConcurrentHashMap<>();

  private SplitProbe() {}

  /**
   * A channel to {@code xds:///name} with its own bootstrap naming {@code xdsServer}: the global
   * {@code xds} scheme reads its bootstrap once per JVM, so a second probe in the same JVM could
   * not point elsewhere. Close it with {@link #close}.
   */
  public static ManagedChannel channel(String name, String xdsServer, String nodeId) {
    String scheme = "steelyard-probe" + SCHEMES.incrementAndGet();
    Map<String, Object> bootstrap = Map.of(
        "xds_servers", List.of(Map.of(
            "server_uri", xdsServer,
            "channel_creds", List.of(Map.of("type", "insecure")),
            "server_features", List.of("xds_v3"))),
        "node", Map.of(
            "id", nodeId,
            "cluster", "steelyard-probe",
            "locality", Map.of("zone", "default"),
            "metadata", Map.of("steelyard.kind", "grpc")));
    XdsNameResolverProvider provider = XdsNameResolverProvider.createForTest(scheme, bootstrap);
    NameResolverRegistry.getDefaultRegistry().register(provider);
    ManagedChannel channel = ManagedChannelBuilder.forTarget(scheme + ":///" + name)
        .usePlaintext().build();
    PROVIDERS.put(channel, provider);
    return channel;
  }

  public static void close(ManagedChannel channel) {
    channel.shutdownNow();
    XdsNameResolverProvider provider = PROVIDERS.remove(channel);
    if (provider != null) {
      NameResolverRegistry.getDefaultRegistry().deregister(provider);
    }
  }

  /**
   * Waits up to {@code timeout} for the channel to have its xDS configuration and a first
   * connection (READY), or to have failed (TRANSIENT_FAILURE); the calls that follow then need
   * no wait-for-ready and fail fast at a dead endpoint instead of waiting out their deadline.
   */
  public static ConnectivityState awaitSettled(ManagedChannel channel, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    ConnectivityState state = channel.getState(true);
    while (state == ConnectivityState.IDLE || state == ConnectivityState.CONNECTING) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return state;
      }
      CountDownLatch changed = new CountDownLatch(1);
      channel.notifyWhenStateChanged(state, changed::countDown);
      changed.await(left, TimeUnit.NANOSECONDS);
      state = channel.getState(true);
    }
    return state;
  }

  /**
   * One WhoAreYou call with a deadline. The role of a failed call comes from the cluster the
   * xDS balancer picked ({@code grpc.lb.backend_service}, named {@code ns/name/role}); its
   * endpoint is known only if a connection carried the call.
   */
  public static CompletableFuture<ProbeRun.Outcome> send(ManagedChannel channel,
      Duration timeout) {
    CallTrace trace = new CallTrace();
    CompletableFuture<ProbeRun.Outcome> outcome = new CompletableFuture<>();
    ClientCalls.asyncUnaryCall(
        channel.newCall(RoleServiceDescriptor.WHO_ARE_YOU, CallOptions.DEFAULT
            .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .withStreamTracerFactory(trace)),
        WhoAreYouRequest.getDefaultInstance(), new StreamObserver<>() {
          @Override
          public void onNext(WhoAreYouReply reply) {
            outcome.complete(ProbeRun.Outcome.answered(reply.getRole(), trace.endpoint()));
          }

          @Override
          public void onError(Throwable error) {
            Status status = Status.fromThrowable(error);
            // grpc's text for a deadline carries its timings, which would make each failure
            // a kind of its own.
            String reason = status.getCode() == Status.Code.DEADLINE_EXCEEDED
                ? "DEADLINE_EXCEEDED (no answer within " + timeout.toMillis() + " ms)"
                : describe(status);
            outcome.complete(ProbeRun.Outcome.failed(trace.role(), trace.endpoint(), reason));
          }

          @Override
          public void onCompleted() {
            outcome.complete(ProbeRun.Outcome.failed(trace.role(), trace.endpoint(),
                "INTERNAL: no reply"));
          }
        });
    return outcome;
  }

  /** "UNAVAILABLE: io exception (Connection refused)": the code, then what grpc says and why. */
  static String describe(Status status) {
    StringBuilder text = new StringBuilder(status.getCode().name());
    if (status.getDescription() != null) {
      // The first line only: later ones quote headers and dates, which would split one
      // kind of failure into many.
      text.append(": ").append(status.getDescription().lines().findFirst().orElse(""));
    }
    Throwable cause = status.getCause();
    while (cause != null && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause != null && cause.getMessage() != null) {
      // Netty says "finishConnect(..) failed with error(-111): Connection refused"; keep the
      // reason, and drop a trailing address, which the endpoint column shows when known.
      text.append(" (").append(cause.getMessage()
          .replaceFirst("^\\w+\\(\\.\\.\\) failed with error\\(-?\\d+\\): ", "")
          .replaceFirst(":? /\\S+$", "")).append(")");
    }
    return text.toString();
  }

  /** Records what the client learns about one call while it runs. */
  private static final class CallTrace extends ClientStreamTracer.Factory {
    private volatile String cluster;
    private volatile SocketAddress remote;

    @Override
    public ClientStreamTracer newClientStreamTracer(ClientStreamTracer.StreamInfo info,
        Metadata headers) {
      return new ClientStreamTracer() {
        @Override
        public void addOptionalLabel(String key, String value) {
          if (key.equals("grpc.lb.backend_service")) {
            cluster = value;
          }
        }

        @Override
        public void streamCreated(Attributes transportAttrs, Metadata headers) {
          SocketAddress address = transportAttrs.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
          if (address != null) {
            remote = address;
          }
        }
      };
    }

    String role() {
      String name = cluster;
      return name == null ? null : name.substring(name.lastIndexOf('/') + 1);
    }

    String endpoint() {
      SocketAddress address = remote;
      if (address instanceof InetSocketAddress inet) {
        return inet.getAddress().getHostAddress() + ":" + inet.getPort();
      }
      return address == null ? null : address.toString();
    }
  }

  /** @param target e.g. {@code xds:///hello-app} */
  public static Result run(String target, int requests, long deadlineSeconds) {
    ManagedChannel channel = ManagedChannelBuilder.forTarget(target).usePlaintext().build();
    try {
      // waitForReady: the first call waits for the xDS config instead of failing fast.
      Map<String, Integer> counts = new TreeMap<>();
      for (int i = 0; i < requests; i++) {
        String key;
        try {
          WhoAreYouReply reply = ClientCalls.blockingUnaryCall(channel,
              RoleServiceDescriptor.WHO_ARE_YOU,
              CallOptions.DEFAULT.withWaitForReady()
                  .withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS),
              WhoAreYouRequest.getDefaultInstance());
          key = reply.getRole();
        } catch (StatusRuntimeException e) {
          key = "error: " + e.getStatus().getCode();
        }
        counts.merge(key, 1, Integer::sum);
      }
      return new Result(counts, requests);
    } finally {
      channel.shutdownNow();
    }
  }
}
