package dev.steelyard.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import java.lang.ref.WeakReference;
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
    RequestedNames shared = RequestedNames.of(first);
    assertThat(RequestedNames.of(second)).isSameAs(shared);
    // The first request's list is kept as it is (it cannot change); the later one is not kept.
    assertThat(shared.names()).isSameAs(first);
    assertThat(RequestedNames.of(parsedNames("a/canary", "a/main"))).isNotSameAs(shared);
  }

  @Test
  void namesNoOneRefersToAnyMoreAreNotKept() throws Exception {
    WeakReference<RequestedNames> names =
        new WeakReference<>(RequestedNames.of(parsedNames("b/main", "b/gone")));
    for (int i = 0; i < 50 && names.get() != null; i++) {
      System.gc();
      Thread.sleep(10);
    }
    assertThat(names.get()).isNull();
  }

  @Test
  void aListThatCanStillChangeIsCopied() {
    List<String> mutable = new ArrayList<>(List.of("c/main"));
    RequestedNames before = RequestedNames.of(mutable);
    mutable.add("c/canary");
    assertThat(before.names()).containsExactly("c/main");
    assertThat(RequestedNames.of(mutable)).isNotSameAs(before);
    assertThat(RequestedNames.of(mutable).names()).containsExactly("c/main", "c/canary");
  }
}
