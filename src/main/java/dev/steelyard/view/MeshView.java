package dev.steelyard.view;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The immutable view of the mesh that resources are generated from: every app, sorted by key,
 * with its endpoints and weights. Equal views translate to byte-equal resources.
 */
public record MeshView(List<AppView> apps) {

  public static final MeshView EMPTY = new MeshView(List.of());

  public MeshView {
    apps = apps.stream().sorted(Comparator.comparing(AppView::key)).toList();
  }

  public Optional<AppView> app(AppKey key) {
    return apps.stream().filter(app -> app.key().equals(key)).findFirst();
  }
}
