package dev.steelyard.demo;

import dev.steelyard.demo.v1.WhoAreYouReply;
import dev.steelyard.demo.v1.WhoAreYouRequest;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Sends requests through a real proxyless gRPC xDS channel and counts which role answered each.
 * What it prints is what the mesh's clients see.
 */
public final class SplitProbe {

  /** Counts by role; failed calls are counted under "error: CODE". */
  public record Result(Map<String, Integer> counts, int total) {}

  private SplitProbe() {}

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
