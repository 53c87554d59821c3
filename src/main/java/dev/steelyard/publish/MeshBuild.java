package dev.steelyard.publish;

import dev.steelyard.split.AppSplits;
import dev.steelyard.split.MeshViewComposer;
import dev.steelyard.translate.AppResources;
import dev.steelyard.translate.MeshTranslator;
import dev.steelyard.translate.ProxyScope;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.ProxyResources;
import dev.steelyard.translate.TranslationCache;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.AppView;
import dev.steelyard.view.MeshView;
import dev.steelyard.view.TrafficWeights;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What one publish would serve, as a function of the apps and the splits: the view they compose
 * to, each app's translated pieces, and per proxy kind its resources and what the validator
 * found wrong with them. The translation cache only saves work: equal inputs give equal
 * builds with or without it. One app's mistake does not cost the others their update: composing
 * leaves out what one app cannot have (a gateway host another app owns), and translating keeps
 * an app whose resources do not validate at its last valid ones; either way with a notice on
 * that app, in {@link #view}. Errors left here (what the apps' pieces get wrong together)
 * refuse the build. No I/O: {@link SnapshotPublisher} runs it, and a test can too.
 *
 * @param errors every validation error, prefixed with the proxy kind; empty when valid
 * @param invalidApps apps whose newest resources did not validate, with their notice
 * @param byKey {@code apps} by key, and {@code byNamespace} by namespace, for {@link #appsIn}
 */
public record MeshBuild(MeshView view, List<AppResources> apps,
    Map<ProxyKind, ProxyResources> resources, List<String> errors,
    Map<AppKey, String> invalidApps, Map<AppKey, AppResources> byKey,
    Map<String, List<AppResources>> byNamespace) {

  public MeshBuild {
    apps = List.copyOf(apps);
    resources = Collections.unmodifiableMap(new EnumMap<>(resources));
    errors = List.copyOf(errors);
  }

  /**
   * The build of {@code apps} under {@code splits}; apps whose view did not change since the
   * last build with the same {@code translations} keep their pieces.
   */
  public static MeshBuild of(Collection<AppSpec> apps, Map<AppKey, AppSplits> splits,
      TranslatorSettings settings, TranslationCache translations) {
    MeshView composed = MeshViewComposer.compose(apps, splits);
    TranslationCache.Translation translation = translations.translate(composed);
    List<AppResources> pieces = translation.apps();
    Map<ProxyKind, ProxyResources> resources = new EnumMap<>(ProxyKind.class);
    List<String> errors = new ArrayList<>();
    for (ProxyKind kind : ProxyKind.values()) {
      ProxyResources built = MeshTranslator.assemble(pieces, kind, settings, ProxyScope.ALL);
      // Each app's pieces were checked when translated; what is left is how they fit together.
      errors.addAll(translations.validateTogether(kind, built));
      resources.put(kind, built);
    }
    MeshView view = translation.notices().isEmpty() ? composed
        : withNotices(composed, translation.notices());
    Map<AppKey, AppResources> byKey = new java.util.HashMap<>(pieces.size() * 2);
    Map<String, List<AppResources>> byNamespace = new java.util.HashMap<>();
    for (AppResources app : pieces) {
      byKey.put(app.key(), app);
      byNamespace.computeIfAbsent(app.key().namespace(), ns -> new ArrayList<>()).add(app);
    }
    return new MeshBuild(view, pieces, resources, errors, translation.notices(), byKey,
        byNamespace);
  }

  /**
   * The pieces of the apps {@code scope} includes, in the view's order: what a sidecar that
   * calls only those apps is assembled from. They are pieces of the unscoped sidecar resources,
   * which validated, so the subset does too (an app's clusters, assignments and virtual host
   * refer only to each other).
   */
  public List<AppResources> appsIn(ProxyScope scope) {
    if (scope.all()) {
      return apps;
    }
    // Looked up, not filtered: a publish asks this of every scope (hundreds in a large mesh),
    // and a scope names a few apps of thousands.
    java.util.TreeMap<AppKey, AppResources> in = new java.util.TreeMap<>();
    for (String namespace : scope.namespaces()) {
      for (AppResources app : byNamespace.getOrDefault(namespace, List.of())) {
        in.put(app.key(), app);
      }
    }
    for (AppKey key : scope.apps()) {
      AppResources app = byKey.get(key);
      if (app != null) {
        in.put(key, app);
      }
    }
    return List.copyOf(in.values());
  }

  /** {@code view} with each app's translation notice among its mesh notices. */
  private static MeshView withNotices(MeshView view, Map<AppKey, String> notices) {
    List<AppView> apps = new ArrayList<>(view.apps().size());
    for (AppView app : view.apps()) {
      String notice = notices.get(app.key());
      if (notice == null) {
        apps.add(app);
        continue;
      }
      List<String> mesh = new ArrayList<>(app.mesh().notices());
      mesh.add(notice);
      apps.add(new AppView(app.spec(), new TrafficWeights(app.mesh().set(),
          app.mesh().effective(), mesh), app.gateway()));
    }
    return new MeshView(apps);
  }

  public boolean valid() {
    return errors.isEmpty();
  }
}
