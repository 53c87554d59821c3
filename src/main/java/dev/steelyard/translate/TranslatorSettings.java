package dev.steelyard.translate;

/**
 * How Envoy proxies are configured beyond what the mesh says: the gateway's HTTP port, the
 * sidecar's outbound port, and how sidecars get their routes.
 */
public record TranslatorSettings(int gatewayPort, int sidecarPort, SidecarRoutes sidecarRoutes) {

  public static final TranslatorSettings DEFAULTS =
      new TranslatorSettings(10080, 15001, SidecarRoutes.SHARED);

  /**
   * The route layout of a sidecar's outbound listener. Both route by the Host header (its port
   * left aside when choosing the app) to the same weighted clusters; they differ in what one
   * app's weight change sends every sidecar.
   */
  public enum SidecarRoutes {
    /** One route configuration, a virtual host per app: a weight step resends all of them. */
    SHARED("shared"),
    /**
     * A route configuration per app, chosen by the Host header (Envoy's scoped routes, the
     * scopes inline in the listener): a weight step sends each sidecar that app's routes only.
     * Adding or removing an app changes the listener, which Envoy replaces by draining the
     * connections of the old one.
     */
    PER_APP("per-app");

    private final String label;

    SidecarRoutes(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    /** @throws IllegalArgumentException naming the layouts, for anything else */
    public static SidecarRoutes of(String label) {
      for (SidecarRoutes layout : values()) {
        if (layout.label.equals(label)) {
          return layout;
        }
      }
      throw new IllegalArgumentException("sidecar-routes must be 'shared' or 'per-app', not '"
          + label + "'");
    }
  }

  public TranslatorSettings(int gatewayPort, int sidecarPort) {
    this(gatewayPort, sidecarPort, SidecarRoutes.SHARED);
  }

  public TranslatorSettings withSidecarRoutes(SidecarRoutes layout) {
    return new TranslatorSettings(gatewayPort, sidecarPort, layout);
  }
}
