package dev.steelyard.translate;

import io.envoyproxy.envoy.config.core.v3.Node;

/**
 * Proxies that are served the same resources: a kind, and for sidecars the apps they call.
 * Each group has a snapshot of its own; an unscoped group per kind always exists.
 */
public record ProxyGroup(ProxyKind kind, ProxyScope scope) {

  private static final ProxyGroup[] ALL = {new ProxyGroup(ProxyKind.GATEWAY, ProxyScope.ALL),
      new ProxyGroup(ProxyKind.SIDECAR, ProxyScope.ALL),
      new ProxyGroup(ProxyKind.GRPC, ProxyScope.ALL)};

  /** Every proxy of {@code kind} that declares no scope. */
  public static ProxyGroup all(ProxyKind kind) {
    return ALL[kind.ordinal()];
  }

  /** @throws IllegalArgumentException when the node's kind or scope is malformed */
  public static ProxyGroup of(Node node) {
    ProxyKind kind = ProxyKind.of(node);
    ProxyScope scope = ProxyScope.of(node);
    if (!scope.all() && kind != ProxyKind.SIDECAR) {
      // A gateway routes to every app with gateway hosts, and a gRPC client names what it
      // wants: a scope would silently mean nothing.
      throw new IllegalArgumentException("node metadata " + ProxyScope.METADATA_KEY
          + " scopes sidecars only; this node is a " + kind.label());
    }
    return scope.all() ? all(kind) : new ProxyGroup(kind, scope);
  }

  public boolean scoped() {
    return !scope.all();
  }

  /** {@code sidecar}, or {@code sidecar[default/hello-app,shop/*]} for a scoped one. */
  public String label() {
    return scope.all() ? kind.label() : kind.label() + "[" + scope.label() + "]";
  }

  @Override
  public String toString() {
    return label();
  }
}
