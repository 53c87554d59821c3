package dev.steelyard.rollout;

import dev.steelyard.view.SubsetRole;
import dev.steelyard.view.SubsetWeights;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A flow as the REST API shows it (GET .../rollout): phase, step, the weights the flow set and
 * those the proxies were sent with their ACK counts, desired and ready replicas per role, what
 * it waits for, and the verdicts so far. Plain maps, printed by Jackson.
 */
public final class FlowViews {

  private FlowViews() {}

  public static Map<String, Object> status(Flow flow, Observation seen,
      SubsetWeights effective, String driver, String driverError) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", flow.id());
    out.put("app", flow.app().toString());
    out.put("kind", flow.kind().label());
    out.put("phase", flow.phase().label());
    out.put("fromVersion", flow.oldVersion());
    out.put("version", flow.newVersion());
    if (flow.kind() == FlowKind.DEPLOY) {
      out.put("step", flow.step() + 1);
      out.put("steps", flow.stepsBasisPoints().stream().map(bp -> bp / 100.0).toList());
      out.put("judgment", flow.judgment());
      out.put("sizing", flow.sizing().label());
    } else {
      out.put("weight", flow.weightBasisPoints() / 100.0);
      out.put("weightCap", flow.weightCapBasisPoints() / 100.0);
      out.put("canaryReplicas", flow.canaryReplicas());
      out.put("endsAt", flow.endsAt() == null ? null : flow.endsAt().toString());
    }
    out.put("mainReplicasAtStart", flow.mainReplicas());
    Map<String, Object> weights = new LinkedHashMap<>();
    weights.put("split", flow.split().toString());
    weights.put("set", percents(flow.split().weights()));
    weights.put("sent", effective == null ? null : percents(effective));
    weights.put("applied", flow.active() ? seen.splitApplied() : null);
    weights.put("acks", seen.acks());
    weights.put("setAt", flow.weightSetAt().toString());
    out.put("weights", weights);
    Map<String, Object> workloads = new LinkedHashMap<>();
    for (SubsetRole role : SubsetRole.values()) {
      RoleTarget target = flow.workloads().get(role);
      RoleStatus status = seen.role(role);
      Map<String, Object> one = new LinkedHashMap<>();
      one.put("desiredVersion", target == null ? null : target.version());
      one.put("desiredReplicas", target == null ? null : target.replicas());
      one.put("version", status.version());
      one.put("replicas", status.replicas());
      one.put("readyReplicas", status.ready());
      workloads.put(role.label(), one);
    }
    out.put("workloads", workloads);
    out.put("waitingFor", flow.waitingFor());
    out.put("lagging", flow.active() ? seen.lagging() : List.of());
    List<String> verdicts = new ArrayList<>();
    for (HistoryEntry entry : flow.history()) {
      if (entry.event().equals("judgment")) {
        verdicts.add(entry.at() + " " + entry.detail() + " [" + entry.by() + "]");
      }
    }
    out.put("verdicts", verdicts);
    // The newest automatic verdict's evidence, whole (the history has every one).
    for (int i = flow.history().size() - 1; i >= 0; i--) {
      HistoryEntry entry = flow.history().get(i);
      if (entry.evidence() != null) {
        out.put("lastEvidence", entry.evidence());
        break;
      }
    }
    out.put("driver", driver);
    out.put("driverError", driverError);
    out.put("phaseSince", flow.phaseSince().toString());
    out.put("startedAt", flow.startedAt().toString());
    out.put("startedBy", flow.startedBy());
    out.put("endedAt", flow.endedAt() == null ? null : flow.endedAt().toString());
    return out;
  }

  private static Map<String, Double> percents(SubsetWeights weights) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (SubsetRole role : SubsetRole.values()) {
      out.put(role.label(), SubsetWeights.toPercent(weights.get(role)));
    }
    return out;
  }
}
