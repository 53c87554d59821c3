package dev.steelyard.translate;

import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppView;
import dev.steelyard.view.MeshView;
import dev.steelyard.view.SubsetRole;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Names of the resources Steelyard publishes, and the host names each app answers to. */
public final class ResourceNames {

  public static final String GATEWAY_LISTENER = "steelyard_gateway";
  public static final String GATEWAY_ROUTES = "steelyard_gateway";
  public static final String SIDECAR_LISTENER = "steelyard_sidecar_outbound";
  public static final String SIDECAR_ROUTES = "steelyard_sidecar_outbound";

  private ResourceNames() {}

  /** Subset cluster, also its EDS service name: {@code namespace/name/role}. */
  public static String cluster(AppKey app, SubsetRole role) {
    return app + "/" + role.label();
  }

  /** One app's route configuration on sidecars with per-app routes. */
  public static String sidecarRoutes(AppKey app) {
    return "sidecar/" + app;
  }

  /** The route configuration a proxyless gRPC client gets for one app. */
  public static String grpcRoutes(AppKey app) {
    return "grpc/" + app;
  }

  /**
   * Mesh host names per app, each also with {@code :port}. The short name ({@code hello-app})
   * is given only to an app whose name is unique across namespaces, because a client could not
   * tell two such apps apart; their qualified names always work.
   */
  public static Map<AppKey, List<String>> meshHosts(MeshView view) {
    Map<String, Integer> nameCount = new HashMap<>();
    for (AppView app : view.apps()) {
      nameCount.merge(app.key().name(), 1, Integer::sum);
    }
    Map<AppKey, List<String>> hosts = new LinkedHashMap<>();
    for (AppView app : view.apps()) {
      List<String> names = new ArrayList<>();
      if (nameCount.get(app.key().name()) == 1) {
        names.add(app.key().name());
      }
      names.addAll(app.spec().qualifiedMeshNames());
      List<String> withPorts = new ArrayList<>();
      for (String name : names) {
        withPorts.add(name);
        withPorts.add(name + ":" + app.spec().port());
      }
      hosts.put(app.key(), List.copyOf(withPorts));
    }
    return hosts;
  }
}
