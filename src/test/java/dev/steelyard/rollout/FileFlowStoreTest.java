package dev.steelyard.rollout;

import static org.assertj.core.api.Assertions.assertThat;

import dev.steelyard.split.SplitPolicy;
import dev.steelyard.view.AppKey;
import dev.steelyard.view.SubsetRole;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The flow file, written from each flow's JSON as it was saved, is the document a fresh store
 * reads back: every flow as saved last, in order, after saves that add, replace and drop flows.
 */
class FileFlowStoreTest {

  private static final Instant T0 = Instant.parse("2026-12-01T12:00:00Z");

  @TempDir
  Path dir;

  private static Flow flow(String id, String app) throws FlowException {
    return FlowMachine.start(id, new AppKey("default", app),
        FlowRequest.deploy("v2", List.of(10.0, 50.0), Judgment.MANUAL),
        new FlowMachine.MainWorkload("v1", 4), SplitPolicy.OFF, "test", T0);
  }

  /** {@code flow} carried on with every role as asked and every proxy ACKed, until it ends. */
  private static Flow ended(Flow flow) {
    Instant now = T0;
    for (int i = 0; i < 50 && flow.active(); i++) {
      Map<SubsetRole, RoleStatus> roles = new EnumMap<>(SubsetRole.class);
      flow.workloads().forEach((role, target) -> roles.put(role,
          new RoleStatus(target.version(), target.replicas(), target.replicas())));
      now = now.plusSeconds(1);
      flow = FlowMachine.advance(flow, new Observation(roles, true, List.of(), "grpc 1/1"),
          Verdict.pending(""), now);
    }
    assertThat(flow.active()).isFalse();
    return flow;
  }

  @Test
  void savesReadBackAsSavedAfterAddsReplacementsAndEndedFlowsDropped() throws Exception {
    FileFlowStore store = FileFlowStore.open(dir);
    store.load();
    List<Flow> expected = new ArrayList<>();
    Flow a = flow("a", "shop");
    Flow b = flow("b", "cart");
    store.save(a);
    store.save(b);
    expected.add(a);
    expected.add(b);
    // Replaced in place: a rolled back.
    Flow aEnded = FlowMachine.rollback(a, "operator", T0.plusSeconds(5));
    store.save(aEnded);
    expected.set(0, aEnded);
    assertThat(FileFlowStore.open(dir).load()).isEqualTo(expected);

    // Ended flows beyond the kept number per app are dropped, oldest first.
    for (int i = 0; i < FileFlowStore.KEEP_ENDED + 2; i++) {
      Flow ended = ended(FlowMachine.abort(flow("x" + i, "search"), "operator", T0));
      store.save(ended);
      expected.add(ended);
    }
    expected.removeIf(f -> f.id().equals("x0") || f.id().equals("x1"));
    List<Flow> read = FileFlowStore.open(dir).load();
    assertThat(read).isEqualTo(expected);
    assertThat(Files.readString(dir.resolve(FileFlowStore.FILE_NAME))).startsWith("{")
        .endsWith("}\n").contains("\"flows\" : [");
  }
}
