package dev.steelyard.split;

import java.util.Objects;
import java.util.Optional;

/**
 * The splits of one app: mesh traffic (sidecars, gRPC clients) and, when set on its own, gateway
 * traffic. Without a gateway split the gateway follows the mesh.
 */
public record AppSplits(SplitPolicy mesh, Optional<SplitPolicy> gatewayOverride) {

  public static final AppSplits DEFAULT = new AppSplits(SplitPolicy.OFF, Optional.empty());

  public AppSplits {
    Objects.requireNonNull(mesh, "mesh");
    Objects.requireNonNull(gatewayOverride, "gatewayOverride");
  }

  public SplitPolicy gateway() {
    return gatewayOverride.orElse(mesh);
  }
}
