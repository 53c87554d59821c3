package dev.steelyard.translate;

import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppView;
import dev.steelyard.view.MeshView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Incremental translation: an app is translated again only when its view (spec, weights,
 * notices) or the names it is called by changed; every other app keeps its {@link AppResources}
 * instances. A weight change of one app in a mesh of 1,000 then builds three clusters' worth of
 * protos instead of 9,000, and the content hashes downstream are only computed for what is new.
 * Output is exactly {@link MeshTranslator#translate}'s; not thread-safe (one publisher thread).
 */
public final class TranslationCache {

  private record Entry(AppView app, List<String> meshHosts, AppResources resources) {}

  private Map<AppKey, Entry> entries = new HashMap<>();
  private long translated;
  private long reused;

  /** Every app of {@code view}, in the view's order. Apps no longer in it are forgotten. */
  public List<AppResources> translate(MeshView view) {
    Map<AppKey, List<String>> hosts = ResourceNames.meshHosts(view);
    Map<AppKey, Entry> next = new HashMap<>(view.apps().size() * 2);
    List<AppResources> out = new ArrayList<>(view.apps().size());
    for (AppView app : view.apps()) {
      List<String> meshHosts = hosts.get(app.key());
      Entry entry = entries.get(app.key());
      if (entry == null || !entry.app().equals(app) || !entry.meshHosts().equals(meshHosts)) {
        AppResources fresh = AppResources.of(app, meshHosts);
        entry = new Entry(app, meshHosts,
            entry == null ? fresh : fresh.keepingEqual(entry.resources()));
        translated++;
      } else {
        reused++;
      }
      next.put(app.key(), entry);
      out.add(entry.resources());
    }
    entries = next;
    return out;
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
