package dev.hearth.operator.scheduling;

import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/**
 * What one MicroVM asks of the scheduler.
 *
 * @param footprint vCPUs and memory it takes from a node, VMM overhead included
 * @param pinnedNode spec.nodeName, or null
 */
public record VmRequest(
    String id,
    Resources footprint,
    Map<String, String> nodeSelector,
    List<Toleration> tolerations,
    String pinnedNode) {
  public VmRequest {
    nodeSelector = nodeSelector == null ? Map.of() : Map.copyOf(nodeSelector);
    tolerations = tolerations == null ? List.of() : List.copyOf(tolerations);
  }
}
