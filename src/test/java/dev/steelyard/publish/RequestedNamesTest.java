package dev.steelyard.publish;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RequestedNamesTest {

  private static List<String> parsedNames(String... names) throws Exception {
    byte[] wire = DiscoveryRequest.newBuilder().addAllResourceNames(List.of(names)).build()
        .toByteArray();
    return DiscoveryRequest.parseFrom(wire).getResourceNamesList();
  }

  @Test
  void requestsNamingTheSameResourcesShareOneInstance() throws Exception {
    List<String> first = parsedNames("a/main", "a/canary");
    List<String> second = parsedNames("a/main", "a/canary");
    assertThat(second).isNotSameAs(first);
    assertThat(RequestedNames.of(second)).isSameAs(RequestedNames.of(first));
    assertThat(RequestedNames.of(parsedNames("a/canary", "a/main")))
        .isNotSameAs(RequestedNames.of(first));
  }

  @Test
  void theSharedInstanceDoesNotKeepARequestsOwnList() throws Exception {
    // The request's list is a weak key mapped to the shared instance: if the instance held that
    // list, the key could never be collected.
    List<String> request = parsedNames("b/main");
    assertThat(RequestedNames.of(request).names()).isEqualTo(request).isNotSameAs(request);
  }

  @Test
  void aListThatCanStillChangeIsLookedUpByContent() {
    List<String> mutable = new ArrayList<>(List.of("c/main"));
    RequestedNames before = RequestedNames.of(mutable);
    mutable.add("c/canary");
    assertThat(RequestedNames.of(mutable)).isNotSameAs(before);
    assertThat(RequestedNames.of(mutable).names()).containsExactly("c/main", "c/canary");
  }
}
