package dev.steelyard.translate;

import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppView;
import dev.steelyard.view.MeshView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * Incremental translation: an app is translated again only when its view (spec, weights,
 * notices) or the names it is called by changed; every other app keeps its {@link AppResources}
 * instances. A weight change of one app in a mesh of 1,000 then builds three clusters' worth of
 * protos instead of 9,000, and the content hashes downstream are only computed for what is new.
 * Not thread-safe (one publisher thread).
 *
 * <p>Each app is also checked when translated ({@link ResourceValidator#validate(AppResources)}),
 * so one app's error costs that app alone: it keeps the pieces it last had that were valid (or,
 * never valid, is left out) and gets a notice; the other apps are published. For valid apps the
 * output is exactly {@link MeshTranslator#translate}'s.
 */
public final class TranslationCache {

  /**
   * The pieces to serve, in the view's order, and why an app's newest view is not among them.
   *
   * @param notices by app: its resources did not validate, and what proxies get instead
   */
  public record Translation(List<AppResources> apps, Map<AppKey, String> notices) {
    public Translation {
      apps = List.copyOf(apps);
      notices = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(notices));
    }
  }

  /** @param served the newest valid pieces of the app, or null if it never had any */
  private record Entry(AppView app, List<String> meshHosts, AppResources served, String notice) {}

  private final BiFunction<AppView, List<String>, AppResources> translator;
  private Map<AppKey, Entry> entries = new HashMap<>();
  private long translated;
  private long reused;
  /** The last translate served the same apps with the same specs and mesh names as before. */
  private boolean namesAsBefore;
  /** What {@link #validateTogether} found per kind, kept while {@link #namesAsBefore}. */
  private final Map<ProxyKind, List<String>> together = new java.util.EnumMap<>(ProxyKind.class);

  public TranslationCache() {
    this(AppResources::of);
  }

  /** A cache that translates with {@code translator}: a test's, to make an app invalid. */
  TranslationCache(BiFunction<AppView, List<String>, AppResources> translator) {
    this.translator = translator;
  }

  /** Every app of {@code view} that has valid pieces. Apps no longer in it are forgotten. */
  public Translation translate(MeshView view) {
    Map<AppKey, List<String>> hosts = ResourceNames.meshHosts(view);
    Map<AppKey, Entry> next = new HashMap<>(view.apps().size() * 2);
    List<AppResources> out = new ArrayList<>(view.apps().size());
    Map<AppKey, String> notices = new LinkedHashMap<>();
    boolean sameNames = true;
    int servedBefore = 0;
    for (Entry entry : entries.values()) {
      servedBefore += entry.served() == null ? 0 : 1;
    }
    for (AppView app : view.apps()) {
      List<String> meshHosts = hosts.get(app.key());
      Entry before = entries.get(app.key());
      Entry entry = before;
      if (entry == null || !entry.app().equals(app) || !entry.meshHosts().equals(meshHosts)) {
        entry = translated(app, meshHosts, entry == null ? null : entry.served());
        translated++;
      } else {
        reused++;
      }
      // An app that does not validate may serve pieces of an older spec: counted as changed.
      if (entry.served() != null && (before == null || before.served() == null
          || entry.notice() != null || before.notice() != null
          || !before.app().spec().equals(app.spec()) || !before.meshHosts().equals(meshHosts))) {
        sameNames = false;
      }
      next.put(app.key(), entry);
      if (entry.served() != null) {
        out.add(entry.served());
      }
      if (entry.notice() != null) {
        notices.put(app.key(), entry.notice());
      }
    }
    entries = next;
    // Every app served now was served before with the same names; the same count means no
    // app served before is gone.
    namesAsBefore = sameNames && out.size() == servedBefore;
    if (!namesAsBefore) {
      together.clear();
    }
    return new Translation(out, notices);
  }

  /**
   * {@link ResourceValidator#validateTogether} of the resources of {@code kind} assembled from
   * the last translation, checked again only when a served app's names may have changed. That
   * check looks at names alone (of resources, domains, scope keys), and a weight change of one
   * app in 1,000 changes none of them: it was a third of such a publish's CPU.
   */
  public List<String> validateTogether(ProxyKind kind, ProxyResources built) {
    List<String> errors = together.get(kind);
    if (errors == null) {
      errors = List.copyOf(ResourceValidator.validateTogether(kind, built));
      together.put(kind, errors);
    }
    return errors;
  }

  private Entry translated(AppView app, List<String> meshHosts, AppResources before) {
    AppResources fresh = translator.apply(app, meshHosts);
    List<String> errors = ResourceValidator.validate(fresh);
    if (errors.isEmpty()) {
      return new Entry(app, meshHosts, before == null ? fresh : fresh.keepingEqual(before), null);
    }
    return new Entry(app, meshHosts, before, "not published, its resources are invalid ("
        + String.join("; ", errors) + "): proxies "
        + (before == null ? "do not get this app" : "keep its last valid configuration"));
  }

  /** Apps translated since this cache was made. */
  public long translated() {
    return translated;
  }

  /** Apps whose previous translation was reused since this cache was made. */
  public long reused() {
    return reused;
  }
}
