package dev.steelyard.publish;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.steelyard.translate.ProxyKind;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.XdsRequest;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** What a watch keeps of the request that opened it. */
class StreamAwareWatcherTest {

  private static final Node SIDECAR = Node.newBuilder().setId("envoy-1")
      .setMetadata(Struct.newBuilder().putFields(ProxyKind.METADATA_KEY,
          Value.newBuilder().setStringValue("sidecar").build()))
      .build();

  /** A request as it arrives: parsed from the wire, so every string is a fresh object. */
  private static DiscoveryRequest fromWire(String version, String nonce) throws Exception {
    return DiscoveryRequest.parseFrom(DiscoveryRequest.newBuilder()
        .setTypeUrl(Resources.V3.ROUTE_TYPE_URL).setNode(SIDECAR)
        .addAllResourceNames(List.of("steelyard_sidecar_outbound", "other_routes"))
        .setVersionInfo(version).setResponseNonce(nonce).build().toByteArray());
  }

  @Test
  void aWatchKeepsTheStreamsNodeAndTheSharedNamesNotWhatItsAckCarried() throws Exception {
    StreamAwareWatcher watcher = new StreamAwareWatcher(new IndexedCache(),
        new EndpointVersions(), new SimpleMeterRegistry());
    DiscoveryRequest first = fromWire("", "");
    RequestedNames shared = RequestedNames.of(first.getResourceNamesList());
    Node streamNode = first.getNode();

    DiscoveryRequest ack = fromWire("v2", "7");
    watcher.prepare(ack, streamNode, RequestedNames.of(ack.getResourceNamesList()),
        new AtomicBoolean(false));
    Watch watch = watcher.createWatch(true, XdsRequest.create(ack), Set.of(), r -> {}, false,
        false);

    DiscoveryRequest kept = watch.request().v3Request();
    assertThat(kept.getTypeUrl()).isEqualTo(Resources.V3.ROUTE_TYPE_URL);
    assertThat(kept.getVersionInfo()).isEqualTo("v2");
    assertThat(kept.getResponseNonce()).isEqualTo("7");
    assertThat(kept.getNode()).isSameAs(streamNode).isNotSameAs(ack.getNode());
    assertThat(kept.getResourceNamesList()).isEqualTo(ack.getResourceNamesList());
    for (int i = 0; i < kept.getResourceNamesCount(); i++) {
      assertThat(kept.getResourceNames(i)).isSameAs(shared.names().get(i))
          .isNotSameAs(ack.getResourceNames(i));
    }
  }

  @Test
  void aNackedWatchHoldsTheRejectedVersion() throws Exception {
    StreamAwareWatcher watcher = new StreamAwareWatcher(new IndexedCache(),
        new EndpointVersions(), new SimpleMeterRegistry());
    DiscoveryRequest nack = fromWire("v1", "8");
    watcher.prepareNack(nack, nack.getNode(), RequestedNames.of(nack.getResourceNamesList()),
        "v2", Set.of("steelyard_sidecar_outbound"), new AtomicBoolean(false));
    Watch watch = watcher.createWatch(true, XdsRequest.create(nack), Set.of(), r -> {}, false,
        false);
    assertThat(watch.request().v3Request().getVersionInfo()).isEqualTo("v2");
  }
}
