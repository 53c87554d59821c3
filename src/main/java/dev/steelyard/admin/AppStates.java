package dev.steelyard.admin;

import dev.steelyard.admin.v1.AppState;
import dev.steelyard.admin.v1.RolloutProgress;
import dev.steelyard.admin.v1.SubsetState;
import dev.steelyard.feedback.ProxyRegistry;
import dev.steelyard.publish.PublishedState;
import dev.steelyard.split.AppSplits;
import dev.steelyard.split.SplitProtos;
import dev.steelyard.status.RoutesVersions;
import dev.steelyard.translate.ProxyKind;
import dev.steelyard.translate.ResourceNames;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppView;
import dev.steelyard.view.Endpoint;
import dev.steelyard.view.SubsetRole;
import dev.steelyard.view.SubsetWeights;
import java.util.List;
import java.util.Map;

/**
 * Builds the admin API's view of an app from one published state and the proxies' ACKs of it:
 * the splits shown are those that state was composed from, never newer ones from the store that
 * are still being published, so the weights, routes versions and ACK counts beside them are theirs.
 */
final class AppStates {

  private AppStates() {}

  /**
   * {@code meshHosts} are the app's mesh host names ({@code ResourceNames.meshHosts} of the
   * published view, computed once per view by the caller: per app it made a list of 5,000 apps
   * quadratic).
   */
  static AppState of(AppView app, PublishedState published,
      Map<ProxyKind, ProxyRegistry.Progress> progress, List<String> meshHosts,
      List<String> sourceNotices) {
    AppKey key = app.key();
    AppSplits splits = published.splits().get(key);
    AppState.Builder state = AppState.newBuilder()
        .setNamespace(key.namespace())
        .setName(key.name())
        .setPort(app.spec().port())
        .addAllGatewayHosts(app.spec().gatewayHosts())
        .addAllMeshHosts(meshHosts)
        .setMeshSplit(SplitProtos.toProto(splits.mesh()))
        .setGatewaySplit(SplitProtos.toProto(splits.gateway()))
        .setGatewayFollowsMesh(splits.gatewayOverride().isEmpty())
        .addAllNotices(app.mesh().notices())
        .addAllNotices(app.gateway().notices())
        .addAllNotices(sourceNotices);
    for (SubsetRole role : SubsetRole.values()) {
      state.addSubsets(SubsetState.newBuilder()
          .setRole(role.label())
          .setCluster(ResourceNames.cluster(key, role))
          .addAllEndpoints(app.spec().endpoints(role).stream().map(Endpoint::toString).toList())
          .setMeshWeight(SubsetWeights.toPercent(app.mesh().set().get(role)))
          .setEffectiveMeshWeight(SubsetWeights.toPercent(app.mesh().effective().get(role)))
          .setGatewayWeight(SubsetWeights.toPercent(app.gateway().set().get(role)))
          .setEffectiveGatewayWeight(
              SubsetWeights.toPercent(app.gateway().effective().get(role))));
    }
    for (Map.Entry<ProxyKind, String> entry : RoutesVersions.of(key, published).entrySet()) {
      ProxyRegistry.Progress reached = progress.getOrDefault(entry.getKey(),
          new ProxyRegistry.Progress(0, 0));
      state.addProgress(RolloutProgress.newBuilder()
          .setProxyKind(entry.getKey().label())
          .setRoutesVersion(entry.getValue())
          .setProxiesConnected(reached.connected())
          .setProxiesAcked(reached.applied()));
    }
    return state.build();
  }
}
