package dev.steelyard.translate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.steelyard.view.AppKey;
import io.envoyproxy.envoy.config.core.v3.Node;
import org.junit.jupiter.api.Test;

/** How a node's kind and declared calls ({@code steelyard.calls}) make its group. */
class ProxyGroupTest {

  private static Node node(String kind, Value calls) {
    Struct.Builder metadata = Struct.newBuilder()
        .putFields(ProxyKind.METADATA_KEY, Value.newBuilder().setStringValue(kind).build());
    if (calls != null) {
      metadata.putFields(ProxyScope.METADATA_KEY, calls);
    }
    return Node.newBuilder().setId("n").setMetadata(metadata).build();
  }

  private static Value text(String value) {
    return Value.newBuilder().setStringValue(value).build();
  }

  @Test
  void aSidecarWithoutCallsIsInItsKindsGroup() {
    assertThat(ProxyGroup.of(node("sidecar", null))).isSameAs(ProxyGroup.all(ProxyKind.SIDECAR));
  }

  @Test
  void callsNameAppsAndNamespacesAsStringOrList() {
    ProxyGroup fromString = ProxyGroup.of(node("sidecar", text(" shop/* , default/hello-app")));
    ProxyGroup fromList = ProxyGroup.of(node("sidecar", Value.newBuilder().setListValue(
        ListValue.newBuilder().addValues(text("default/hello-app")).addValues(text("shop/*")))
        .build()));
    assertThat(fromString).isEqualTo(fromList);
    assertThat(fromString.label()).isEqualTo("sidecar[shop/*,default/hello-app]");
    ProxyScope scope = fromString.scope();
    assertThat(scope.includes(new AppKey("default", "hello-app"))).isTrue();
    assertThat(scope.includes(new AppKey("shop", "cart"))).isTrue();
    assertThat(scope.includes(new AppKey("default", "other"))).isFalse();
  }

  @Test
  void malformedCallsAndScopedGatewaysAreRefusedWithTheReason() {
    assertThatThrownBy(() -> ProxyGroup.of(node("sidecar", text("hello-app"))))
        .hasMessageContaining("'hello-app' is neither namespace/name nor namespace/*");
    assertThatThrownBy(() -> ProxyGroup.of(node("sidecar", text(""))))
        .hasMessageContaining("neither");
    assertThatThrownBy(() -> ProxyGroup.of(node("sidecar",
        Value.newBuilder().setNumberValue(3).build())))
        .hasMessageContaining("must be a string or a list of strings");
    assertThatThrownBy(() -> ProxyGroup.of(node("gateway", text("default/hello-app"))))
        .hasMessageContaining("scopes sidecars only; this node is a gateway");
    assertThatThrownBy(() -> ProxyScope.parse(java.util.Collections.nCopies(
        ProxyScope.MAX_ENTRIES + 1, "a/b"))).hasMessageContaining("at most 1000");
  }
}
