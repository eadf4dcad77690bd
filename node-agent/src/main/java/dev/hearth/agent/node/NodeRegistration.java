package dev.hearth.agent.node;

import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.KvmInfo;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.MicroVMNodeSpec;
import dev.hearth.api.v1alpha1.MicroVMNodeStatus;
import dev.hearth.api.v1alpha1.NodeResources;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Creates the node's {@code MicroVMNode} and keeps the agent's part of its status current:
 * capacity, allocatable (capacity less reservations), KVM facts, agent version and subnet. The spec
 * (taints, cordon) belongs to the cluster admin and is never written; the Ready condition belongs
 * to the operator and is left alone.
 */
public final class NodeRegistration {
  private static final List<String> AGENT_FIELDS =
      List.of("capacity", "allocatable", "kvm", "agentVersion", "subnet", "nodeAddress");

  /** What the host keeps for itself. */
  public record Reservations(int vcpus, long memoryMiB) {
    public Reservations {
      if (vcpus < 0 || memoryMiB < 0) {
        throw new IllegalArgumentException("reservations cannot be negative");
      }
    }
  }

  private static final Duration SUBNET_POLL = Duration.ofMillis(500);

  private final KubernetesClient client;
  private final String nodeName;

  public NodeRegistration(KubernetesClient client, String nodeName) {
    this.client = client;
    this.nodeName = nodeName;
  }

  public static NodeResources allocatable(NodeResources capacity, Reservations reserved) {
    return new NodeResources(
        Math.max(0, capacity.getVcpus() - reserved.vcpus()),
        Math.max(0, capacity.getMemoryMiB() - reserved.memoryMiB()));
  }

  /** Creates the MicroVMNode if missing, then writes the agent's status fields. */
  public MicroVMNode register(
      NodeResources capacity, Reservations reserved, KvmInfo kvm, String version, String subnet) {
    return register(capacity, reserved, kvm, version, subnet, null);
  }

  /** As above, with the node address other nodes route its guest subnet through. */
  public MicroVMNode register(
      NodeResources capacity,
      Reservations reserved,
      KvmInfo kvm,
      String version,
      String subnet,
      String nodeAddress) {
    var nodes = client.resources(MicroVMNode.class);
    MicroVMNode current = nodes.withName(nodeName).get();
    if (current == null) {
      MicroVMNode fresh = new MicroVMNode();
      fresh.setMetadata(new ObjectMetaBuilder().withName(nodeName).build());
      fresh.setSpec(new MicroVMNodeSpec());
      try {
        current = nodes.resource(fresh).create();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        current = nodes.withName(nodeName).get(); // created concurrently (a previous run)
      }
    }
    MicroVMNodeStatus status = new MicroVMNodeStatus();
    status.setCapacity(capacity);
    status.setAllocatable(allocatable(capacity, reserved));
    status.setKvm(kvm);
    status.setAgentVersion(version);
    status.setSubnet(subnet);
    status.setNodeAddress(nodeAddress);
    // Server-side apply of the agent's fields only: the operator's conditions stay its own.
    return new StatusApply(client, StatusApply.AGENT).apply(current, status, AGENT_FIELDS, false);
  }

  /**
   * Waits until the operator has allocated the node its subnet ({@code spec.subnet}) and returns
   * it. Polls: this happens once, at start, and takes one operator pass.
   *
   * @throws IllegalStateException when none is allocated within {@code timeout}; the pod restarts
   */
  public String awaitSubnet(Duration timeout) throws InterruptedException {
    Instant deadline = Instant.now().plus(timeout);
    while (true) {
      MicroVMNode node = client.resources(MicroVMNode.class).withName(nodeName).get();
      if (node != null && node.getSpec() != null && node.getSpec().getSubnet() != null) {
        return node.getSpec().getSubnet();
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException(
            "the operator allocated no subnet to MicroVMNode "
                + nodeName
                + " within "
                + timeout
                + ": is it running with a cluster range (network.clusterCIDR), and is the range"
                + " exhausted (kubectl describe mvmnode "
                + nodeName
                + ")?");
      }
      Thread.sleep(SUBNET_POLL.toMillis());
    }
  }
}
