package dev.steelyard.publish;

import dev.steelyard.translate.ProxyGroup;
import dev.steelyard.xds.NamedVersionSnapshot;
import java.util.List;

/**
 * Which connected proxies have not applied a snapshot yet. The publisher waits on it between
 * the stages of a make-before-break change; the proxy registry answers it from the ACKs.
 */
@FunctionalInterface
public interface AppliedCheck {

  AppliedCheck NONE = (group, snapshot) -> List.of();

  /** Node ids of the connected proxies of {@code group} that have not applied {@code snapshot}. */
  List<String> lagging(ProxyGroup group, NamedVersionSnapshot snapshot);
}
