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
 * capacity, what it reserves, allocatable (capacity less reservations, vCPUs times the overcommit
 * ratio, the VMs its file descriptors allow), the per-VM overhead, KVM facts, agent version and
 * subnet: all the scheduler needs to pack the node to exactly what it holds. The spec (taints,
 * cordon) belongs to the cluster admin and is never written; the Ready condition belongs to the
 * operator and is left alone.
 */
public final class NodeRegistration {
  private static final List<String> AGENT_FIELDS =
      List.of(
          "capacity",
          "reserved",
          "allocatable",
          "vmOverheadMiB",
          "vcpuOvercommitRatio",
          "kvm",
          "agentVersion",
          "subnet",
          "nodeAddress");

  /**
   * Host memory a VM costs beyond its guest RAM unless configured: an idle tiny guest measured 0.35
   * MiB (node-agent/src/bench AgentScaleBench); devices' queues and buffers take more.
   */
  public static final long DEFAULT_VM_OVERHEAD_MIB = 8;

  /**
   * What the host keeps for itself, and how VMs count against the rest.
   *
   * @param vcpuOvercommitRatio guest vCPUs offered per host vCPU left after the reservation
   * @param vmOverheadMiB host memory each VM costs beyond its guest RAM
   */
  public record Reservations(
      int vcpus, long memoryMiB, int vcpuOvercommitRatio, long vmOverheadMiB) {
    public Reservations {
      if (vcpus < 0 || memoryMiB < 0 || vmOverheadMiB < 0) {
        throw new IllegalArgumentException("reservations cannot be negative");
      }
      if (vcpuOvercommitRatio < 1) {
        throw new IllegalArgumentException(
            "the vCPU overcommit ratio must be at least 1, not " + vcpuOvercommitRatio);
      }
    }

    /** No vCPU overcommit, the default per-VM overhead. */
    public Reservations(int vcpus, long memoryMiB) {
      this(vcpus, memoryMiB, 1, DEFAULT_VM_OVERHEAD_MIB);
    }
  }

  private static final Duration SUBNET_POLL = Duration.ofMillis(500);

  private final KubernetesClient client;
  private final String nodeName;

  public NodeRegistration(KubernetesClient client, String nodeName) {
    this.client = client;
    this.nodeName = nodeName;
  }

  /** What VMs may use; {@code maxVms} null when their number is not limited. */
  public static NodeResources allocatable(
      NodeResources capacity, Reservations reserved, Integer maxVms) {
    long vcpus =
        (long) Math.max(0, capacity.getVcpus() - reserved.vcpus()) * reserved.vcpuOvercommitRatio();
    return new NodeResources(
        (int) Math.min(Integer.MAX_VALUE, vcpus),
        Math.max(0, capacity.getMemoryMiB() - reserved.memoryMiB()),
        maxVms);
  }

  public static NodeResources allocatable(NodeResources capacity, Reservations reserved) {
    return allocatable(capacity, reserved, null);
  }

  /** As the other, with no limit on the number of VMs. */
  public MicroVMNode register(
      NodeResources capacity, Reservations reserved, KvmInfo kvm, String version, String subnet) {
    return register(capacity, reserved, null, kvm, version, subnet, null);
  }

  /**
   * Creates the MicroVMNode if missing, then writes the agent's status fields. {@code maxVms}: how
   * many VMs the agent's file descriptors allow, null for no limit. {@code nodeAddress}: the
   * address other nodes route this node's guest subnet through, null for none.
   */
  public MicroVMNode register(
      NodeResources capacity,
      Reservations reserved,
      Integer maxVms,
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
    status.setReserved(new NodeResources(reserved.vcpus(), reserved.memoryMiB()));
    status.setAllocatable(allocatable(capacity, reserved, maxVms));
    status.setVmOverheadMiB(reserved.vmOverheadMiB());
    status.setVcpuOvercommitRatio(reserved.vcpuOvercommitRatio());
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
