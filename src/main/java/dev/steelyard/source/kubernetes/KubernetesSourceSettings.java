package dev.steelyard.source.kubernetes;

import java.util.List;

/**
 * Which pods and Services make up the mesh: the label naming a pod's app, the label naming its
 * role ({@code main}, {@code baseline}, {@code canary}), and the namespaces watched (empty: all).
 */
public record KubernetesSourceSettings(String appLabel, String roleLabel, List<String> namespaces) {

  public static final KubernetesSourceSettings DEFAULTS =
      new KubernetesSourceSettings("app", "app-role", List.of());

  /** Annotation on a Service: the port (name or number) to use when it has several. */
  public static final String PORT_ANNOTATION = "steelyard.dev/port";
  /** Annotation on a Service: comma-separated host names its gateway routes answer to. */
  public static final String GATEWAY_HOSTS_ANNOTATION = "steelyard.dev/gateway-hosts";

  public KubernetesSourceSettings {
    if (appLabel == null || appLabel.isBlank() || roleLabel == null || roleLabel.isBlank()) {
      throw new IllegalArgumentException("the app and role label keys must not be empty");
    }
    if (appLabel.equals(roleLabel)) {
      throw new IllegalArgumentException("the app and role labels must differ: " + appLabel);
    }
    namespaces = List.copyOf(namespaces);
  }

  public boolean allNamespaces() {
    return namespaces.isEmpty();
  }

  public String describeNamespaces() {
    return allNamespaces() ? "all namespaces" : "namespaces " + String.join(",", namespaces);
  }
}
