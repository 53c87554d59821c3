package dev.steelyard.feedback;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.ProxyResources;
import dev.steelyard.xds.NamedVersionSnapshot;
import dev.steelyard.xds.ProxyEvent;
import dev.steelyard.xds.RequestedNames;
import dev.steelyard.xds.XdsPeer;
import dev.steelyard.xds.XdsType;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProxyRegistryTest {

  private static final ProxyGroup SIDECARS = ProxyGroup.all(ProxyKind.SIDECAR);
  private static final RequestedNames ROUTE_NAMES = RequestedNames.of(List.of("sidecar"));

  private static NamedVersionSnapshot snapshot(NamedVersionSnapshot before, String domain) {
    RouteConfiguration routes = RouteConfiguration.newBuilder().setName("sidecar")
        .addVirtualHosts(VirtualHost.newBuilder().setName("shop").addDomains(domain)).build();
    return NamedVersionSnapshot.next(before,
        new ProxyResources(List.of(), List.of(), List.of(), List.of(routes)));
  }

  private static String routesVersion(NamedVersionSnapshot snapshot) {
    return snapshot.version(XdsType.ROUTES, ROUTE_NAMES);
  }

  @Test
  void answersFollowEachEventOfTheStreamWhenTheSameQuestionIsAskedAgain() {
    ProxyRegistry registry = new ProxyRegistry();
    registry.accept(new ProxyEvent.Connected(1, Node.newBuilder().setId("envoy-1").build(),
        SIDECARS, new XdsPeer(false, "none", ""), XdsPeer.Reading.ALWAYS, Instant.now()));
    NamedVersionSnapshot first = snapshot(null, "shop");
    NamedVersionSnapshot second = snapshot(first, "shop.example");

    registry.accept(new ProxyEvent.Sent(1, XdsType.ROUTES, routesVersion(first)));
    // Asked twice with nothing between: the second answer is the remembered one.
    assertThat(registry.lagging(SIDECARS, first)).containsExactly("envoy-1");
    assertThat(registry.lagging(SIDECARS, first)).containsExactly("envoy-1");
    assertThat(registry.routesProgress(Map.of(SIDECARS, first)))
        .containsEntry(ProxyKind.SIDECAR, new ProxyRegistry.Progress(1, 0));

    registry.accept(new ProxyEvent.Acked(1, XdsType.ROUTES, routesVersion(first), ROUTE_NAMES));
    assertThat(registry.lagging(SIDECARS, first)).isEmpty();
    assertThat(registry.routesProgress(Map.of(SIDECARS, first)))
        .containsEntry(ProxyKind.SIDECAR, new ProxyRegistry.Progress(1, 1));

    // The next snapshot is another question, and the ACK of it changes the first answer.
    registry.accept(new ProxyEvent.Sent(1, XdsType.ROUTES, routesVersion(second)));
    assertThat(registry.lagging(SIDECARS, second)).containsExactly("envoy-1");
    assertThat(registry.lagging(SIDECARS, first)).isEmpty();
    registry.accept(new ProxyEvent.Acked(1, XdsType.ROUTES, routesVersion(second),
        ROUTE_NAMES));
    assertThat(registry.lagging(SIDECARS, second)).isEmpty();
    assertThat(registry.lagging(SIDECARS, first)).containsExactly("envoy-1");
    assertThat(registry.routesProgress(Map.of(SIDECARS, second)))
        .containsEntry(ProxyKind.SIDECAR, new ProxyRegistry.Progress(1, 1));
    assertThat(registry.routesProgress(Map.of(SIDECARS, first)))
        .containsEntry(ProxyKind.SIDECAR, new ProxyRegistry.Progress(1, 0));
  }
}
