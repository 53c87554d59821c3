package dev.steelyard.translate;

import dev.steelyard.view.MeshView;
import java.util.List;

/**
 * The pure function at the heart of Steelyard: {@code view + proxy kind -> resources}. No I/O, no
 * clocks, no randomness: equal inputs give byte-equal outputs on any replica.
 */
public final class MeshTranslator {

  private MeshTranslator() {}

  public static ProxyResources translate(MeshView view, ProxyKind kind,
      TranslatorSettings settings) {
    return switch (kind) {
      case GATEWAY -> new ProxyResources(
          ClusterTranslator.clusters(view, kind),
          ClusterTranslator.assignments(view),
          List.of(ListenerTranslator.gateway(settings.gatewayPort())),
          List.of(RouteTranslator.gateway(view)));
      case SIDECAR -> new ProxyResources(
          ClusterTranslator.clusters(view, kind),
          ClusterTranslator.assignments(view),
          List.of(ListenerTranslator.sidecar(settings.sidecarPort())),
          List.of(RouteTranslator.sidecar(view)));
      case GRPC -> new ProxyResources(
          ClusterTranslator.clusters(view, kind),
          ClusterTranslator.assignments(view),
          ListenerTranslator.grpc(view),
          RouteTranslator.grpc(view));
    };
  }
}
