package dev.steelyard.feedback;

import dev.steelyard.translate.ProxyKind;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** One connected xDS stream as the admin API shows it. */
public record ProxyStatus(
    long streamId,
    String nodeId,
    String cluster,
    ProxyKind kind,
    String app,
    String userAgent,
    Map<String, String> ackedVersions,
    Map<String, List<String>> ackedNames,
    Optional<Nack> lastNack,
    Instant connectedAt) {}
