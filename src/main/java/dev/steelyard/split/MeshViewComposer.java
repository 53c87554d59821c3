package dev.steelyard.split;

import dev.steelyard.view.AppKey;
import dev.steelyard.view.AppSpec;
import dev.steelyard.view.AppView;
import dev.steelyard.view.GatewayHosts;
import dev.steelyard.view.MeshView;
import dev.steelyard.view.SubsetRole;
import dev.steelyard.view.SubsetWeights;
import dev.steelyard.view.TrafficWeights;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Joins what sources declare with the splits operators set into a {@link MeshView}. A share must
 * never go to a subset without endpoints: it goes to main instead, and a notice says so. What
 * one app cannot have is left out of it alone, with a notice, so that the others are published:
 * a gateway host another app claimed first (by key, {@link GatewayHosts}) is dropped, which
 * otherwise made the gateway's route configuration invalid and refused every proxy's update.
 */
public final class MeshViewComposer {

  private MeshViewComposer() {}

  public static MeshView compose(Collection<AppSpec> apps, Map<AppKey, AppSplits> splits) {
    List<AppSpec> sorted = apps.stream().sorted(Comparator.comparing(AppSpec::key)).toList();
    GatewayHosts.Owners owners = new GatewayHosts.Owners();
    List<AppView> views = new ArrayList<>();
    for (AppSpec declared : sorted) {
      AppSplits appSplits = splits.getOrDefault(declared.key(), AppSplits.DEFAULT);
      List<String> hosts = new ArrayList<>();
      List<String> hostNotices = new ArrayList<>();
      for (String host : declared.gatewayHosts()) {
        Optional<AppKey> owner = owners.claim(host, declared.key());
        if (owner.isEmpty()) {
          hosts.add(host);
        } else {
          hostNotices.add("gateway: host " + host + " belongs to " + owner.get()
              + "; left out of this app's gateway routes");
        }
      }
      AppSpec spec = hostNotices.isEmpty() ? declared : new AppSpec(declared.key(),
          declared.port(), declared.protocol(), hosts, declared.endpoints());
      TrafficWeights gateway = effective("gateway", appSplits.gateway(), spec);
      if (!hostNotices.isEmpty()) {
        hostNotices.addAll(gateway.notices());
        gateway = new TrafficWeights(gateway.set(), gateway.effective(), hostNotices);
      }
      views.add(new AppView(spec, effective("mesh", appSplits.mesh(), spec), gateway));
    }
    return new MeshView(views);
  }

  static TrafficWeights effective(String traffic, SplitPolicy policy, AppSpec spec) {
    SubsetWeights set = policy.weights();
    int main = set.main();
    int baseline = set.baseline();
    int canary = set.canary();
    List<String> notices = new ArrayList<>();
    if (baseline > 0 && spec.endpoints(SubsetRole.BASELINE).isEmpty()) {
      notices.add(movedNotice(traffic, SubsetRole.BASELINE, baseline));
      main += baseline;
      baseline = 0;
    }
    if (canary > 0 && spec.endpoints(SubsetRole.CANARY).isEmpty()) {
      notices.add(movedNotice(traffic, SubsetRole.CANARY, canary));
      main += canary;
      canary = 0;
    }
    if (main > 0 && spec.endpoints(SubsetRole.MAIN).isEmpty()) {
      notices.add(traffic + ": main has no ready endpoints; its "
          + SubsetWeights.toPercent(main) + " % of traffic will fail");
    }
    return new TrafficWeights(set, new SubsetWeights(main, baseline, canary), notices);
  }

  private static String movedNotice(String traffic, SubsetRole role, int basisPoints) {
    return traffic + ": " + role.label() + " has no ready endpoints; its "
        + SubsetWeights.toPercent(basisPoints) + " % goes to main";
  }
}
