package dev.steelyard.publish;

import dev.steelyard.translate.ProxyKind;
import dev.steelyard.xds.NamedVersionSnapshot;
import java.util.List;

/**
 * Which connected proxies have not applied a snapshot yet. The publisher waits on it between
 * the stages of a make-before-break change; the proxy registry answers it from the ACKs.
 */
@FunctionalInterface
public interface AppliedCheck {

  AppliedCheck NONE = (kind, snapshot) -> List.of();

  /** Node ids of the connected proxies of {@code kind} that have not applied {@code snapshot}. */
  List<String> lagging(ProxyKind kind, NamedVersionSnapshot snapshot);
}
