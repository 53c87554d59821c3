package dev.steelyard.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import org.junit.jupiter.api.Test;

/** Scoped routes cross java-control-plane under the secrets type URL, and only there. */
class ScopedRoutesCarrierTest {

  private static final String SRDS =
      "type.googleapis.com/envoy.config.route.v3.ScopedRouteConfiguration";

  @Test
  void aScopedRoutesRequestIsCarriedAndItsResponseGoesOutUnderItsOwnTypeUrl() {
    DiscoveryRequest carried = ScopedRoutesCarrier.inbound(
        DiscoveryRequest.newBuilder().setTypeUrl(SRDS).setVersionInfo("v1").build());
    assertThat(carried.getTypeUrl()).isEqualTo(Resources.V3.SECRET_TYPE_URL);
    assertThat(carried.getVersionInfo()).isEqualTo("v1");
    assertThat(XdsType.ofTypeUrl(carried.getTypeUrl())).isEqualTo(XdsType.SCOPED_ROUTES);

    DiscoveryResponse out = ScopedRoutesCarrier.outbound(DiscoveryResponse.newBuilder()
        .setTypeUrl(Resources.V3.SECRET_TYPE_URL).setNonce("3").build());
    assertThat(out.getTypeUrl()).isEqualTo(SRDS);
    assertThat(out.getNonce()).isEqualTo("3");
  }

  @Test
  void aClientsOwnSecretsRequestIsRenamedToATypeNothingServes() {
    DiscoveryRequest secrets = ScopedRoutesCarrier.inbound(DiscoveryRequest.newBuilder()
        .setTypeUrl(Resources.V3.SECRET_TYPE_URL).build());
    assertThat(XdsType.ofTypeUrl(secrets.getTypeUrl())).isNull();
  }

  @Test
  void everyOtherTypePassesAsItIs() {
    DiscoveryRequest routes = DiscoveryRequest.newBuilder()
        .setTypeUrl(Resources.V3.ROUTE_TYPE_URL).build();
    assertThat(ScopedRoutesCarrier.inbound(routes)).isSameAs(routes);
    DiscoveryResponse clusters = DiscoveryResponse.newBuilder()
        .setTypeUrl(Resources.V3.CLUSTER_TYPE_URL).build();
    assertThat(ScopedRoutesCarrier.outbound(clusters)).isSameAs(clusters);
  }
}
