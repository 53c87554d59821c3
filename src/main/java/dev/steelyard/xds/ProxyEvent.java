package dev.steelyard.xds;

import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.translate.ProxyKind;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.time.Instant;

/**
 * What the xDS streams tell the rest of Steelyard about a proxy, in the order each stream saw
 * it. Events are immutable; the stream's protocol state (nonces, watches, the NACK hold-back)
 * stays in {@link XdsStreams}.
 */
public sealed interface ProxyEvent {

  long streamId();

  /**
   * A stream's first valid request arrived.
   *
   * @param node the node without its extensions and other bulk (what is kept of it)
   * @param reading whether the client reads what it is sent, asked when needed
   */
  record Connected(long streamId, Node node, ProxyGroup group, XdsPeer peer,
      XdsPeer.Reading reading, Instant at) implements ProxyEvent {

    public ProxyKind kind() {
      return group.kind();
    }
  }

  /** A response of {@code type} at {@code version} went out on the stream. */
  record Sent(long streamId, XdsType type, String version) implements ProxyEvent {}

  /**
   * The proxy runs {@code version} of {@code type} for {@code names} (empty for a wildcard):
   * it ACKed a response, or a new stream's first request said what it already runs.
   */
  record Acked(long streamId, XdsType type, String version, RequestedNames names)
      implements ProxyEvent {}

  /** The proxy rejected the last response of the NACK's type; it keeps its previous config. */
  record Nacked(long streamId, Nack nack) implements ProxyEvent {}

  /** The stream closed, or was refused after it had been connected. */
  record Disconnected(long streamId) implements ProxyEvent {}
}
