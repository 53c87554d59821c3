package dev.steelyard.publish;

import dev.steelyard.split.AppSplits;
import dev.steelyard.split.MeshViewComposer;
import dev.steelyard.translate.AppResources;
import dev.steelyard.translate.MeshTranslator;
import dev.steelyard.translate.ProxyScope;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.ProxyResources;
import dev.steelyard.translate.ResourceValidator;
import dev.steelyard.translate.TranslationCache;
import dev.steelyard.translate.TranslatorSettings;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.MeshView;
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
 * builds with or without it. Composing already leaves out what one app cannot have (a gateway host another app owns), with
 * a notice on that app, so one app's mistake does not cost the others their update; errors left
 * here refuse the build. No I/O: {@link SnapshotPublisher} runs it, and a test can too.
 *
 * @param errors every validation error, prefixed with the proxy kind; empty when valid
 */
public record MeshBuild(MeshView view, List<AppResources> apps,
    Map<ProxyKind, ProxyResources> resources, List<String> errors) {

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
    MeshView view = MeshViewComposer.compose(apps, splits);
    List<AppResources> pieces = translations.translate(view);
    Map<ProxyKind, ProxyResources> resources = new EnumMap<>(ProxyKind.class);
    List<String> errors = new ArrayList<>();
    for (ProxyKind kind : ProxyKind.values()) {
      ProxyResources built = MeshTranslator.assemble(pieces, kind, settings, ProxyScope.ALL);
      errors.addAll(ResourceValidator.validate(kind, built));
      resources.put(kind, built);
    }
    return new MeshBuild(view, pieces, resources, errors);
  }

  /**
   * The pieces of the apps {@code scope} includes, in the view's order: what a sidecar that
   * calls only those apps is assembled from. They are pieces of the unscoped sidecar resources,
   * which validated, so the subset does too (an app's clusters, assignments and virtual host
   * refer only to each other).
   */
  public List<AppResources> appsIn(ProxyScope scope) {
    List<AppResources> in = new ArrayList<>();
    for (AppResources app : apps) {
      if (scope.includes(app.key())) {
        in.add(app);
      }
    }
    return in;
  }

  public boolean valid() {
    return errors.isEmpty();
  }
}
