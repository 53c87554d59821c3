package dev.steelyard.xds;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Holds back responses a client is not reading. State-of-the-world xDS needs only the newest
 * response of each type, so while the transport is not ready (the client's flow-control window
 * is full) a response waits here, and a newer one of the same type replaces it: a stream holds
 * at most one response per type beyond what gRPC already buffers, however many requests ask
 * for one. Responses share their resources with every other stream, so a waiting one costs
 * little.
 *
 * <p>A request of a type whose response waits is dropped: it cannot answer that response,
 * which the client has not seen, so java-control-plane would ignore it as stale anyway, unless
 * the client guessed the nonce to make the server build response after response. A stream
 * that keeps sending requests while a response waits is closed.
 */
final class ResponseFlow implements ServerInterceptor {

  private final int maxRequestsWhileBlocked;
  private final Counter replaced;
  private final Counter closed;
  private final Counter dropped;

  ResponseFlow(int maxRequestsWhileBlocked, MeterRegistry meters) {
    this.maxRequestsWhileBlocked = maxRequestsWhileBlocked;
    this.replaced = Counter.builder("steelyard_xds_responses_replaced_total")
        .description("responses replaced by a newer one before a slow client read them")
        .register(meters);
    this.dropped = Counter.builder("steelyard_xds_requests_dropped_total")
        .description("requests dropped as stale: a response of their type waited unread")
        .register(meters);
    this.closed = Counter.builder("steelyard_xds_streams_closed_not_reading_total")
        .description("streams closed for sending requests without reading responses")
        .register(meters);
  }

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
      Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    HeldBackCall<ReqT, RespT> held = new HeldBackCall<>(call);
    // The protocol's callbacks run in this context and can ask whether the client reads.
    Context context = Context.current().withValue(XdsPeer.READING, held::reading);
    ServerCall.Listener<ReqT> listener = Contexts.interceptCall(context, held, headers, next);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      private boolean ended;

      @Override
      public void onMessage(ReqT message) {
        if (ended) {
          return;
        }
        switch (held.admit(message)) {
          case FORWARD -> super.onMessage(message);
          // The protocol layer asks for the next message after each one; for a dropped one,
          // this does, or the stream would read nothing more.
          case DROP -> held.request(1);
          case CLOSED -> {
            // Tell the protocol the stream is gone, as if the client had cancelled it.
            ended = true;
            super.onCancel();
          }
        }
      }

      @Override
      public void onReady() {
        held.drain();
        super.onReady();
      }

      @Override
      public void onHalfClose() {
        if (!ended) {
          super.onHalfClose();
        }
      }

      @Override
      public void onCancel() {
        if (!ended) {
          ended = true;
          super.onCancel();
        }
      }

      @Override
      public void onComplete() {
        if (!ended) {
          ended = true;
          super.onComplete();
        }
      }
    };
  }

  private enum Admission { FORWARD, DROP, CLOSED }

  /** The call as the protocol sees it: sends go out when the transport takes them. */
  private final class HeldBackCall<ReqT, RespT>
      extends ForwardingServerCall.SimpleForwardingServerCall<ReqT, RespT> {

    /** By type URL, in the order first held. Guarded by this. */
    private final Map<String, RespT> waiting = new LinkedHashMap<>();
    private int requestsWhileBlocked;
    private boolean closed;

    HeldBackCall(ServerCall<ReqT, RespT> call) {
      super(call);
    }

    @Override
    public synchronized void sendMessage(RespT message) {
      if (closed) {
        return;
      }
      if (waiting.isEmpty() && delegate().isReady()) {
        delegate().sendMessage(message);
        return;
      }
      String type = message instanceof DiscoveryResponse response ? response.getTypeUrl() : "";
      if (waiting.put(type, message) != null) {
        replaced.increment();
      }
    }

    /** False while a response waits for the client to read what it was sent before. */
    synchronized boolean reading() {
      return waiting.isEmpty();
    }

    /** Sends what waits while the transport takes it. */
    synchronized void drain() {
      var each = waiting.values().iterator();
      while (!closed && each.hasNext() && delegate().isReady()) {
        RespT message = each.next();
        each.remove();
        delegate().sendMessage(message);
      }
      if (waiting.isEmpty()) {
        requestsWhileBlocked = 0;
      }
    }

    /**
     * What becomes of a request: on to the protocol, dropped as stale, or refused. A client
     * that does not read its responses gets to send a bounded number before the stream is
     * closed with the reason.
     */
    synchronized Admission admit(ReqT request) {
      if (closed) {
        return Admission.CLOSED;
      }
      if (waiting.isEmpty()) {
        requestsWhileBlocked = 0;
        return Admission.FORWARD;
      }
      if (++requestsWhileBlocked > maxRequestsWhileBlocked) {
        ResponseFlow.this.closed.increment();
        close(Status.RESOURCE_EXHAUSTED.withDescription("the client is not reading its xDS "
            + "responses: " + requestsWhileBlocked + " requests arrived while a response "
            + "waited"), new Metadata());
        return Admission.CLOSED;
      }
      String type = request instanceof DiscoveryRequest discovery ? discovery.getTypeUrl() : "";
      if (waiting.containsKey(type)) {
        dropped.increment();
        return Admission.DROP;
      }
      return Admission.FORWARD;
    }

    @Override
    public synchronized void close(Status status, Metadata trailers) {
      if (closed) {
        return;
      }
      closed = true;
      waiting.clear();
      delegate().close(status, trailers);
    }
  }
}
