package dev.steelyard.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.envoyproxy.controlplane.cache.Resources;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.util.List;
import org.junit.jupiter.api.Test;

class PackOnceTest {

  private static RouteConfiguration routes() {
    return RouteConfiguration.newBuilder().setName("sidecar")
        .addVirtualHosts(VirtualHost.newBuilder().setName("shop").addDomains("shop")).build();
  }

  @Test
  void theSameInstanceIsPackedOnceAndEveryStreamGetsThatAny() throws Exception {
    PackOnce packing = new PackOnce();
    RouteConfiguration routes = routes();

    Any first = packing.serialize(routes, Resources.ApiVersion.V3);
    List<Any> forAStream = List.copyOf(
        packing.serialize(List.of(routes, routes), Resources.ApiVersion.V3));

    assertThat(forAStream).allSatisfy(any -> assertThat(any).isSameAs(first));
    assertThat(first.unpack(RouteConfiguration.class)).isEqualTo(routes);
  }

  @Test
  void anEqualResourceThatIsAnotherInstanceIsPackedOnItsOwn() throws Exception {
    // Keyed by identity: equal content is not compared (that comparison is what this saves).
    PackOnce packing = new PackOnce();
    Any first = packing.serialize(routes(), Resources.ApiVersion.V3);
    Any second = packing.serialize(routes(), Resources.ApiVersion.V3);

    assertThat(second).isNotSameAs(first).isEqualTo(first);
  }
}
