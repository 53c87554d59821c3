package dev.steelyard.rollout;

import java.time.Instant;

/**
 * One line of a flow's history: when, what (an event name), the detail in words, who or what
 * caused it, the proxies' ACK counts at that moment ("grpc 2/2"; empty when not relevant), and
 * for an automatic judgment its evidence (null otherwise).
 */
public record HistoryEntry(Instant at, String flowId, String event, String detail, String by,
    String acks, Evidence evidence) {

  public HistoryEntry {
    acks = acks == null ? "" : acks;
  }

  public HistoryEntry(Instant at, String flowId, String event, String detail, String by,
      String acks) {
    this(at, flowId, event, detail, by, acks, null);
  }
}
