package dev.steelyard.translate;

import dev.steelyard.split.AppSplits;
import dev.steelyard.split.InvalidSplitException;
import dev.steelyard.split.MeshViewComposer;
import dev.steelyard.split.SplitPolicy;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppProtocol;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.MeshView;
import dev.steelyard.view.SubsetRole;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A small mesh used by the translator tests. */
final class SampleViews {

  static final AppKey HELLO = new AppKey("default", "hello-app");
  static final AppKey SHOP = new AppKey("shop", "cart");

  private SampleViews() {}

  /**
   * hello-app (gRPC; mesh deploy 5 = 90/5/5, gateway test 10 = 90/0/10) and cart in namespace
   * shop (HTTP, off, main endpoints only).
   */
  static MeshView sample() {
    try {
      return sample(SplitPolicy.of("deploy", 5));
    } catch (InvalidSplitException e) {
      throw new AssertionError(e);
    }
  }

  static MeshView sample(SplitPolicy helloMesh) throws InvalidSplitException {
    AppSpec hello = new AppSpec(HELLO, 8080, AppProtocol.GRPC, List.of("hello.example.com"),
        Map.of(
            SubsetRole.MAIN, List.of(new Endpoint("10.0.0.1", 8080),
                new Endpoint("10.0.0.2", 8080)),
            SubsetRole.BASELINE, List.of(new Endpoint("10.0.1.1", 8080)),
            SubsetRole.CANARY, List.of(new Endpoint("10.0.2.1", 8080))));
    AppSpec cart = new AppSpec(SHOP, 80, AppProtocol.HTTP, List.of(),
        Map.of(SubsetRole.MAIN, List.of(new Endpoint("10.1.0.1", 80))));
    return MeshViewComposer.compose(List.of(hello, cart), Map.of(
        HELLO, new AppSplits(helloMesh, Optional.of(SplitPolicy.of("test", 10)))));
  }
}
