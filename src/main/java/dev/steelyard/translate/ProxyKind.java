package dev.steelyard.translate;

import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.Locale;

/**
 * The three kinds of xDS clients. A node says which it is with the metadata field
 * {@value #METADATA_KEY} ({@code gateway}, {@code sidecar} or {@code grpc}); without it, a node
 * whose user agent names gRPC is a proxyless gRPC client and anything else is a sidecar.
 */
public enum ProxyKind {
  GATEWAY,
  SIDECAR,
  GRPC;

  public static final String METADATA_KEY = "steelyard.kind";
  public static final String APP_METADATA_KEY = "steelyard.app";

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** @throws IllegalArgumentException when the node names a kind that does not exist */
  public static ProxyKind of(Node node) {
    Value declared = node.getMetadata().getFieldsMap().get(METADATA_KEY);
    if (declared != null) {
      String label = declared.getStringValue();
      for (ProxyKind kind : values()) {
        if (kind.label().equals(label)) {
          return kind;
        }
      }
      throw new IllegalArgumentException("node metadata " + METADATA_KEY + " is '" + label
          + "': expected gateway, sidecar or grpc");
    }
    return node.getUserAgentName().toLowerCase(Locale.ROOT).contains("grpc") ? GRPC : SIDECAR;
  }
}
