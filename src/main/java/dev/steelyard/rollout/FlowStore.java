package dev.steelyard.rollout;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where flows are kept between transitions, keyed by flow id: the data directory
 * ({@link FileFlowStore}) or, in a cluster, the status of each flow's CanaryRollout (so that a
 * new leader finds them without a shared volume). The engine saves a flow before it acts on
 * it; a save that throws means the engine does not act.
 */
public interface FlowStore {

  /** Jackson as flows are stored and served (Instant and Duration as ISO-8601 strings). */
  ObjectMapper JSON = FileFlowStore.mapper();

  /** Every kept flow, running and ended, oldest first. */
  List<Flow> load() throws IOException;

  /** Stores {@code flow}, replacing the stored one with its id or adding it. */
  void save(Flow flow) throws IOException;

  /** Where the flows are, for logs. */
  String describe();

  /** The file store in {@code dataDir}. */
  static FileFlowStore open(Path dataDir) throws IOException {
    return FileFlowStore.open(dataDir);
  }
}
