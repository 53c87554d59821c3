package dev.steelyard.publish;

import dev.steelyard.translate.ProxyKind;
import dev.steelyard.view.MeshView;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * What the proxies are being served now: the view, the content versions per proxy kind, and
 * why the newest build was refused, if it was (the previous snapshot then stays).
 */
public record PublishedState(
    long generation,
    MeshView view,
    Map<ProxyKind, KindVersions> versions,
    Instant at,
    Optional<String> lastError) {}
