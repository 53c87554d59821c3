package dev.steelyard.xds;

import dev.steelyard.net.RateLimitedLog;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.io.InputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sees requests as bytes, before they are decoded (the service behind it is wrapped with
 * {@code ServerInterceptors.useInputStreamMessages}), so that a message that does not decode
 * closes its stream with INVALID_ARGUMENT and one short, rate-limited line. Left to gRPC, it
 * logs a stack trace of some 38 KB per stream and never tells the protocol layer that the
 * stream ended, so the stream's state stays behind.
 */
final class DecodeGuard implements ServerInterceptor {

  private static final Logger log = LoggerFactory.getLogger(DecodeGuard.class);
  private final RateLimitedLog undecodable = new RateLimitedLog(log, 10);

  @Override
  public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(ServerCall<ReqT, RespT> call,
      Metadata headers, ServerCallHandler<ReqT, RespT> next) {
    ServerCall.Listener<ReqT> listener = next.startCall(call, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      private boolean failed;

      @Override
      public void onMessage(ReqT message) {
        if (failed) {
          return;
        }
        try {
          super.onMessage(message);
        } catch (RuntimeException e) {
          if (!(message instanceof InputStream) || !isDecodeFailure(e)) {
            throw e;
          }
          failed = true;
          String reason = "cannot decode the request: " + rootMessage(e);
          undecodable.warn("closed an xDS stream: {}", LogText.of(reason, 200));
          call.close(Status.INVALID_ARGUMENT.withDescription(reason), new Metadata());
          // The protocol layer saw the stream open; it must see it end.
          super.onCancel();
        }
      }

      @Override
      public void onHalfClose() {
        if (!failed) {
          super.onHalfClose();
        }
      }

      @Override
      public void onCancel() {
        if (!failed) {
          super.onCancel();
        }
      }

      @Override
      public void onComplete() {
        if (!failed) {
          super.onComplete();
        }
      }
    };
  }

  private static boolean isDecodeFailure(Throwable e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      if (cause instanceof com.google.protobuf.InvalidProtocolBufferException) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return String.valueOf(root.getMessage());
  }
}
