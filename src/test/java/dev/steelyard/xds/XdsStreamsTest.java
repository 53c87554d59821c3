package dev.steelyard.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Status;
import dev.steelyard.translate.ProxyKind;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.XdsRequest;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/** What a stream keeps, what its watches are made of, and what it reports. */
class XdsStreamsTest {

  private static final Node SIDECAR = Node.newBuilder().setId("envoy-1")
      .setMetadata(Struct.newBuilder().putFields(ProxyKind.METADATA_KEY,
          Value.newBuilder().setStringValue("sidecar").build()))
      .build();

  private final List<ProxyEvent> events = new CopyOnWriteArrayList<>();
  private final XdsStreams streams = new XdsStreams(new IndexedCache(new HeldVersions()), new HeldVersions(),
      XdsLimits.defaults(), events::add, new SimpleMeterRegistry());

  /** A request as it arrives: parsed from the wire, so every string is a fresh object. */
  private static DiscoveryRequest fromWire(DiscoveryRequest.Builder request) throws Exception {
    return DiscoveryRequest.parseFrom(request.setTypeUrl(Resources.V3.ROUTE_TYPE_URL)
        .setNode(SIDECAR)
        .addAllResourceNames(List.of("steelyard_sidecar_outbound", "other_routes"))
        .build().toByteArray());
  }

  private static DiscoveryRequest fromWire(String version, String nonce) throws Exception {
    return fromWire(DiscoveryRequest.newBuilder().setVersionInfo(version)
        .setResponseNonce(nonce));
  }

  private Watch watch(DiscoveryRequest request) {
    return streams.createWatch(true, XdsRequest.create(request), Set.of(), r -> {}, false,
        false);
  }

  @Test
  void aWatchKeepsTheStreamsNodeAndTheSharedNamesNotWhatItsAckCarried() throws Exception {
    DiscoveryRequest first = fromWire("", "");
    RequestedNames shared = RequestedNames.of(first.getResourceNamesList());
    streams.onV3StreamRequest(1, first);
    watch(first);

    DiscoveryRequest ack = fromWire("v2", "7");
    streams.onV3StreamRequest(1, ack);
    DiscoveryRequest kept = watch(ack).request().v3Request();

    assertThat(kept.getTypeUrl()).isEqualTo(Resources.V3.ROUTE_TYPE_URL);
    assertThat(kept.getVersionInfo()).isEqualTo("v2");
    assertThat(kept.getResponseNonce()).isEqualTo("7");
    Node streamNode = ((ProxyEvent.Connected) events.get(0)).node();
    assertThat(kept.getNode()).isSameAs(streamNode).isNotSameAs(ack.getNode());
    assertThat(kept.getResourceNamesList()).isEqualTo(ack.getResourceNamesList());
    for (int i = 0; i < kept.getResourceNamesCount(); i++) {
      assertThat(kept.getResourceNames(i)).isSameAs(shared.names().get(i))
          .isNotSameAs(ack.getResourceNames(i));
    }
  }

  @Test
  void aNackedWatchHoldsTheRejectedVersionAndTheNackIsReported() throws Exception {
    DiscoveryRequest first = fromWire("v1", "");
    streams.onV3StreamRequest(1, first);
    watch(first);
    streams.onV3StreamResponse(1, first, DiscoveryResponse.newBuilder()
        .setTypeUrl(Resources.V3.ROUTE_TYPE_URL).setVersionInfo("v2").setNonce("8").build());

    DiscoveryRequest nack = fromWire(DiscoveryRequest.newBuilder().setVersionInfo("v1")
        .setResponseNonce("8").setErrorDetail(Status.newBuilder().setMessage("bad route")));
    streams.onV3StreamRequest(1, nack);

    assertThat(watch(nack).request().v3Request().getVersionInfo()).isEqualTo("v2");
    assertThat(events).hasSize(4);
    assertThat(events.get(0)).isInstanceOf(ProxyEvent.Connected.class);
    assertThat(events.get(1)).as("the first request says what the proxy runs")
        .isEqualTo(new ProxyEvent.Acked(1, XdsType.ROUTES, "v1",
            RequestedNames.of(first.getResourceNamesList())));
    assertThat(events.get(2)).isEqualTo(new ProxyEvent.Sent(1, XdsType.ROUTES, "v2"));
    assertThat(events.get(3)).isInstanceOfSatisfying(ProxyEvent.Nacked.class, nacked -> {
      assertThat(nacked.nack().type()).isEqualTo(XdsType.ROUTES);
      assertThat(nacked.nack().rejectedVersion()).isEqualTo("v2");
      assertThat(nacked.nack().message()).isEqualTo("bad route");
    });
  }

  @Test
  void theWatchFindsItsStreamFromAnotherThread() throws Exception {
    DiscoveryRequest first = fromWire("", "");
    streams.onV3StreamRequest(1, first);
    var pool = Executors.newSingleThreadExecutor();
    try {
      Watch watch = CompletableFuture.supplyAsync(() -> watch(first), pool).get();
      assertThat(watch.request().v3Request().getNode().getId()).isEqualTo("envoy-1");
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aClosedStreamIsReportedOnce() throws Exception {
    streams.onV3StreamRequest(1, fromWire("", ""));
    streams.onStreamClose(1, Resources.V3.ROUTE_TYPE_URL);
    streams.onStreamCloseWithError(1, Resources.V3.ROUTE_TYPE_URL, new RuntimeException());
    assertThat(events).hasSize(2).last().isEqualTo(new ProxyEvent.Disconnected(1));
  }
}
