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
        new ProxyResources(List.of(), List.of(), List.of(), List.of(), List.of(routes)));
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

  private static ProxyEvent.Connected connected(long stream, String node) {
    return new ProxyEvent.Connected(stream, Node.newBuilder().setId(node).build(), SIDECARS,
        new XdsPeer(false, "none", ""), XdsPeer.Reading.ALWAYS, Instant.now());
  }

  @Test
  void aReconnectingNodeIsItsNewestStreamUntilThatOneGoes() {
    ProxyRegistry registry = new ProxyRegistry();
    NamedVersionSnapshot routes = snapshot(null, "shop");
    registry.accept(connected(1, "envoy-1"));
    registry.accept(new ProxyEvent.Sent(1, XdsType.ROUTES, routesVersion(routes)));
    registry.accept(new ProxyEvent.Acked(1, XdsType.ROUTES, routesVersion(routes), ROUTE_NAMES));
    assertThat(registry.lagging(SIDECARS, routes)).isEmpty();

    // The same node on a new stream that has not applied anything yet: it is the proxy now.
    registry.accept(connected(2, "envoy-1"));
    registry.accept(new ProxyEvent.Sent(2, XdsType.ROUTES, routesVersion(routes)));
    assertThat(registry.proxies()).singleElement().satisfies(proxy -> {
      assertThat(proxy.streamId()).isEqualTo(2);
      assertThat(proxy.streams()).isEqualTo(2);
    });
    assertThat(registry.lagging(SIDECARS, routes)).containsExactly("envoy-1");

    registry.accept(new ProxyEvent.Disconnected(2));
    assertThat(registry.proxies()).singleElement()
        .satisfies(proxy -> assertThat(proxy.streamId()).isEqualTo(1));
    assertThat(registry.lagging(SIDECARS, routes)).isEmpty();
    registry.accept(new ProxyEvent.Disconnected(1));
    assertThat(registry.proxies()).isEmpty();
  }

  @Test
  void aProxyThatRejectedWhatItWasSentLastIsNotWaitedFor() {
    ProxyRegistry registry = new ProxyRegistry();
    NamedVersionSnapshot first = snapshot(null, "shop");
    NamedVersionSnapshot second = snapshot(first, "shop.example");
    registry.accept(connected(1, "envoy-1"));
    registry.accept(new ProxyEvent.Sent(1, XdsType.ROUTES, routesVersion(first)));
    registry.accept(new ProxyEvent.Acked(1, XdsType.ROUTES, routesVersion(first), ROUTE_NAMES));
    registry.accept(new ProxyEvent.Sent(1, XdsType.ROUTES, routesVersion(second)));
    assertThat(registry.lagging(SIDECARS, second)).containsExactly("envoy-1");

    registry.accept(new ProxyEvent.Nacked(1, new dev.steelyard.xds.Nack(XdsType.ROUTES,
        routesVersion(second), "no", Instant.now())));
    assertThat(registry.lagging(SIDECARS, second)).isEmpty();
    assertThat(registry.proxies()).singleElement()
        .satisfies(proxy -> assertThat(proxy.lastNack()).isPresent());
  }
}
