package dev.steelyard.view;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GatewayHostsTest {

  @Test
  void hostsAreLowerCasedAndCheckedOnce() {
    assertThat(GatewayHosts.parse(" Hello.Example.COM:8443 ")).isEqualTo("hello.example.com:8443");
    assertThat(GatewayHosts.parse("*.example.com")).isEqualTo("*.example.com");
    assertThatThrownBy(() -> GatewayHosts.parse("not a host"))
        .hasMessage("'not a host' is not a host name");
    assertThatThrownBy(() -> GatewayHosts.parse(null)).hasMessage("'null' is not a host name");
  }

  @Test
  void theFirstClaimWinsAndAnAppMayNameItsHostTwice() {
    AppKey a = new AppKey("default", "a");
    AppKey b = new AppKey("default", "b");
    GatewayHosts.Owners owners = new GatewayHosts.Owners();
    assertThat(owners.claim("x.io", a)).isEmpty();
    assertThat(owners.claim("x.io", a)).isEmpty();
    assertThat(owners.claim("x.io", b)).contains(a);
  }
}
