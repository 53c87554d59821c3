package dev.steelyard.translate;

import com.google.protobuf.Value;
import dev.steelyard.view.AppKey;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The apps a sidecar calls, as its node declares them in the metadata field
 * {@value #METADATA_KEY}: {@code namespace/name} for one app, {@code namespace/*} for a
 * namespace, as a comma-separated string or a list of strings. Without the field a sidecar calls
 * every app. A scoped sidecar is sent only those apps' clusters, assignments and virtual hosts,
 * under the same resource names, so a weight step of one app costs an Envoy that does not call it
 * nothing, and one that does the size of its own routes rather than the whole mesh's (Istio's
 * {@code Sidecar} egress hosts serve the same purpose).
 *
 * @param apps the apps named one by one, sorted
 * @param namespaces the namespaces named whole, sorted
 */
public record ProxyScope(boolean all, Set<AppKey> apps, Set<String> namespaces) {

  public static final String METADATA_KEY = "steelyard.calls";
  /** Entries one node may declare: a scope is kept per distinct declaration. */
  public static final int MAX_ENTRIES = 1_000;
  public static final ProxyScope ALL = new ProxyScope(true, Set.of(), Set.of());

  public ProxyScope {
    apps = java.util.Collections.unmodifiableSet(new TreeSet<>(apps));
    namespaces = java.util.Collections.unmodifiableSet(new TreeSet<>(namespaces));
  }

  public boolean includes(AppKey app) {
    return all || namespaces.contains(app.namespace()) || apps.contains(app);
  }

  /** @throws IllegalArgumentException with what is wrong, when the declaration is malformed */
  public static ProxyScope of(Node node) {
    Value declared = node.getMetadata().getFieldsMap().get(METADATA_KEY);
    if (declared == null) {
      return ALL;
    }
    List<String> entries = new ArrayList<>();
    switch (declared.getKindCase()) {
      case STRING_VALUE -> {
        for (String entry : declared.getStringValue().split(",", -1)) {
          entries.add(entry.strip());
        }
      }
      case LIST_VALUE -> {
        for (Value entry : declared.getListValue().getValuesList()) {
          if (!entry.hasStringValue()) {
            throw new IllegalArgumentException("node metadata " + METADATA_KEY
                + " must list strings such as \"default/hello-app\" or \"shop/*\"");
          }
          entries.add(entry.getStringValue().strip());
        }
      }
      default -> throw new IllegalArgumentException("node metadata " + METADATA_KEY
          + " must be a string or a list of strings such as \"default/hello-app,shop/*\"");
    }
    return parse(entries);
  }

  /** A scope from entries such as {@code default/hello-app} and {@code shop/*}. */
  public static ProxyScope parse(List<String> entries) {
    if (entries.size() > MAX_ENTRIES) {
      throw new IllegalArgumentException("node metadata " + METADATA_KEY + " names "
          + entries.size() + " entries; at most " + MAX_ENTRIES + " (name a namespace as ns/*)");
    }
    Set<AppKey> apps = new TreeSet<>();
    Set<String> namespaces = new TreeSet<>();
    for (String entry : entries) {
      if (entry.endsWith("/*") && entry.indexOf('/') == entry.length() - 2 && entry.length() > 2) {
        namespaces.add(entry.substring(0, entry.length() - 2));
        continue;
      }
      try {
        apps.add(AppKey.parse(entry));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("node metadata " + METADATA_KEY + ": '"
            + (entry.length() > 100 ? entry.substring(0, 100) + "..." : entry)
            + "' is neither namespace/name nor namespace/*");
      }
    }
    if (apps.isEmpty() && namespaces.isEmpty()) {
      throw new IllegalArgumentException("node metadata " + METADATA_KEY
          + " is empty; leave it out to call every app");
    }
    return new ProxyScope(false, apps, namespaces);
  }

  /** As a node would declare it: {@code *} for every app. */
  public String label() {
    if (all) {
      return "*";
    }
    List<String> parts = new ArrayList<>();
    namespaces.forEach(namespace -> parts.add(namespace + "/*"));
    apps.forEach(app -> parts.add(app.toString()));
    return String.join(",", parts);
  }
}
