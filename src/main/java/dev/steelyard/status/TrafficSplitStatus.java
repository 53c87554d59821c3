package dev.steelyard.status;

import dev.steelyard.feedback.ProxyStatus;
import dev.steelyard.publish.PublishedState;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.SplitSnapshot;
import dev.steelyard.split.kubernetes.TrafficSplitStore.Validation;
import dev.steelyard.split.kubernetes.TrafficSplits;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppView;
import dev.steelyard.view.SubsetWeights;
import dev.steelyard.xds.XdsType;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The status a TrafficSplit should have, as data. Everything but the per-replica proxy counts is
 * a function of the cluster's state, so replicas compute the same status and their writes agree;
 * each replica only changes its own entry under {@code replicas}.
 *
 * <p>{@code applied}, {@code observedGeneration}, {@code effectiveWeights}, {@code routesVersions}
 * and the ACK counts all describe one published state: a reader waiting for {@code
 * observedGeneration == generation} and every proxy ACKed must not move on while the proxies still
 * run the previous routes. Only the conditions look at newer specs: {@code Valid} judges the newest
 * spec at once, and {@code Progressing} says that a valid newer one is still being published.
 *
 * <pre>
 * status:
 *   observedGeneration: 4
 *   conditions: [{type: Valid, status: "False", reason: InvalidSplit, message: ..., ...},
 *                {type: Progressing, status: "False", reason: Published, message: ..., ...}]
 *   applied: {mesh: {mode: test, canaryWeight: 10}, gatewayFollowsMesh: true}
 *   effectiveWeights: {mesh: {main: 90, baseline: 0, canary: 10}, gateway: {...}}
 *   routesVersions: {gateway: 3f.., sidecar: 9a.., grpc: 51..}
 *   proxiesConnected: 7
 *   proxiesAcked: 7
 *   replicas: {steelyard-6d9f-abcde: {proxiesConnected: 4, proxiesAcked: 4,
 *              routesVersions: {...}}, ...}
 * </pre>
 */
final class TrafficSplitStatus {

  static final String VALID = "Valid";
  static final String PROGRESSING = "Progressing";

  private TrafficSplitStatus() {}

  /**
   * @param validation how the newest spec was judged
   * @param accepted the store's splits now, read after {@code published}: newer or the same
   * @param published what the proxies are served; everything but the conditions comes from it
   */
  @SuppressWarnings("unchecked")
  static Map<String, Object> desired(AppKey key, Optional<Validation> validation,
      SplitSnapshot accepted, PublishedState published, List<ProxyStatus> proxies,
      String replicaId, Map<String, Object> existing, Instant now) {
    Map<String, Object> status = new TreeMap<>();
    AppSplits applied = published.splits().get(key);
    published.splits().generation(key)
        .ifPresent(generation -> status.put("observedGeneration", generation));
    status.put("conditions", List.of(
        validCondition(validation, applied, existing, now),
        progressingCondition(key, accepted, published, existing, now)));

    Map<String, Object> appliedMap = new TreeMap<>();
    appliedMap.put("mesh", TrafficSplits.policyMap(applied.mesh()));
    applied.gatewayOverride()
        .ifPresent(gateway -> appliedMap.put("gateway", TrafficSplits.policyMap(gateway)));
    appliedMap.put("gatewayFollowsMesh", applied.gatewayOverride().isEmpty());
    status.put("applied", appliedMap);

    Optional<AppView> app = published.view().app(key);
    List<String> notices = new ArrayList<>();
    if (app.isPresent()) {
      status.put("effectiveWeights", Map.of(
          "mesh", weights(app.get().mesh().effective()),
          "gateway", weights(app.get().gateway().effective())));
      notices.addAll(app.get().mesh().notices());
      notices.addAll(app.get().gateway().notices());
    } else {
      notices.add("no Service " + key + " with the app label is in the mesh; "
          + "this split applies once there is one");
    }
    if (!notices.isEmpty()) {
      status.put("notices", notices);
    }

    Map<String, Object> versions = new TreeMap<>();
    RoutesVersions.of(key, published).forEach((kind, version) ->
        versions.put(kind.label(), version));
    status.put("routesVersions", versions);

    Map<String, Object> replicas = new TreeMap<>();
    Object previousReplicas = existing.get("replicas");
    if (previousReplicas instanceof Map<?, ?> map) {
      replicas.putAll((Map<String, Object>) map);
    }
    replicas.put(replicaId, proxyCounts(published, proxies, versions));
    status.put("replicas", replicas);
    long connected = 0;
    long acked = 0;
    for (Object entry : replicas.values()) {
      if (entry instanceof Map<?, ?> counts) {
        connected += number(counts.get("proxiesConnected"));
        // ACKs another replica counted against other routes (it lags, or this one does) are
        // not ACKs of what this status says is applied.
        if (versions.equals(counts.get("routesVersions"))) {
          acked += number(counts.get("proxiesAcked"));
        }
      }
    }
    status.put("proxiesConnected", connected);
    status.put("proxiesAcked", acked);
    return status;
  }

  /** The status with this replica's entry removed, for a replica that shuts down. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> withoutReplica(Map<String, Object> existing, String replicaId) {
    Map<String, Object> status = new TreeMap<>(existing);
    if (status.get("replicas") instanceof Map<?, ?> map) {
      Map<String, Object> replicas = new TreeMap<>((Map<String, Object>) map);
      replicas.remove(replicaId);
      status.put("replicas", replicas);
    }
    return status;
  }

  private static Map<String, Object> validCondition(Optional<Validation> validation,
      AppSplits applied, Map<String, Object> existing, Instant now) {
    Optional<String> error = validation.flatMap(Validation::error);
    Map<String, Object> condition = new TreeMap<>();
    condition.put("type", VALID);
    condition.put("status", error.isPresent() ? "False" : "True");
    condition.put("reason", error.isPresent() ? "InvalidSplit" : "Accepted");
    condition.put("message", error
        .map(e -> e + "; still serving the last good split: mesh " + applied.mesh()
            + ", gateway " + applied.gateway())
        .orElse("the split is valid"));
    validation.map(Validation::generation).filter(Objects::nonNull)
        .ifPresent(generation -> condition.put("observedGeneration", generation));
    return withTransitionTime(condition, existing, now);
  }

  /**
   * Whether a valid spec newer than the one described is still on its way to the proxies: the
   * store holds another split (or generation) for the app than the published state carries.
   */
  private static Map<String, Object> progressingCondition(AppKey key, SplitSnapshot accepted,
      PublishedState published, Map<String, Object> existing, Instant now) {
    Map<String, Object> condition = new TreeMap<>();
    condition.put("type", PROGRESSING);
    String described = published.splits().generation(key).map(g -> "generation " + g)
        .orElse("the split");
    if (accepted.sameFor(key, published.splits())) {
      condition.put("status", "False");
      condition.put("reason", "Published");
      condition.put("message", described + " is published; proxiesAcked counts the proxies "
          + "that ACKed its routes");
    } else {
      String next = accepted.generation(key).map(g -> "generation " + g)
          .orElse("a new split");
      condition.put("status", published.lastError().isPresent() ? "False" : "True");
      condition.put("reason", published.lastError().isPresent() ? "PublishRefused"
          : "Publishing");
      condition.put("message", published.lastError()
          .map(e -> next + " is valid but its configuration was " + e)
          .orElse(next + " is valid and being published")
          + "; the status still describes " + described);
    }
    published.splits().generation(key)
        .ifPresent(generation -> condition.put("observedGeneration", generation));
    return withTransitionTime(condition, existing, now);
  }

  private static Map<String, Object> withTransitionTime(Map<String, Object> condition,
      Map<String, Object> existing, Instant now) {
    condition.put("lastTransitionTime",
        previousTransitionTime(existing, condition).orElse(now.truncatedTo(ChronoUnit.SECONDS)
            .toString()));
    return condition;
  }

  /** Keeps the old time while the condition says the same, so rewrites change nothing. */
  private static Optional<String> previousTransitionTime(Map<String, Object> existing,
      Map<String, Object> condition) {
    if (!(existing.get("conditions") instanceof List<?> conditions)) {
      return Optional.empty();
    }
    for (Object item : conditions) {
      if (item instanceof Map<?, ?> old && Objects.equals(old.get("type"), condition.get("type"))
          && Objects.equals(old.get("status"), condition.get("status"))
          && Objects.equals(old.get("reason"), condition.get("reason"))
          && Objects.equals(old.get("message"), condition.get("message"))
          && old.get("lastTransitionTime") instanceof String time) {
        return Optional.of(time);
      }
    }
    return Optional.empty();
  }

  private static Map<String, Object> weights(SubsetWeights weights) {
    Map<String, Object> map = new TreeMap<>();
    map.put("main", TrafficSplits.percentValue(weights.main()));
    map.put("baseline", TrafficSplits.percentValue(weights.baseline()));
    map.put("canary", TrafficSplits.percentValue(weights.canary()));
    return map;
  }

  /** Proxies on this replica, and how many ACKed the routes now published to their kind. */
  private static Map<String, Object> proxyCounts(PublishedState published,
      List<ProxyStatus> proxies, Map<String, Object> routesVersions) {
    long acked = 0;
    for (ProxyStatus proxy : proxies) {
      if (proxy.hasApplied(published.snapshots().get(proxy.group()), XdsType.ROUTES)) {
        acked++;
      }
    }
    Map<String, Object> counts = new TreeMap<>();
    counts.put("proxiesConnected", (long) proxies.size());
    counts.put("proxiesAcked", acked);
    counts.put("routesVersions", routesVersions);
    return counts;
  }

  private static long number(Object value) {
    return value instanceof Number n ? n.longValue() : 0;
  }
}
