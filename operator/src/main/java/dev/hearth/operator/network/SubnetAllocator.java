package dev.hearth.operator.network;

import dev.hearth.api.client.StatusApply;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMNode;
import dev.hearth.api.v1alpha1.NetworkInterfaceStatus;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Gives each MicroVMNode a guest subnet of its own from the cluster range, and records it in the
 * node's {@code spec.subnet} by server-side apply (field manager {@value StatusApply#OPERATOR}).
 *
 * <p>There is no allocation table to lose: which subnets are taken is read afresh from the API
 * server for each allocation, so a restarted or newly elected operator sees the same picture. A
 * subnet is taken while a MicroVMNode holds it (spec, or the agent's reported status for an agent
 * configured with a subnet of its own) or while any MicroVM has an address in it. So the subnet of
 * a node that has left is reused only once its VMs are gone too. Allocations run one at a time in
 * this process; leader election keeps a second operator from allocating at once, and the write is
 * guarded by the resourceVersion read, so a node changed meanwhile is read again.
 */
public final class SubnetAllocator {
  /** What {@link #ensure} did. */
  public sealed interface Outcome {
    /** The node had its subnet already. */
    record Held(String subnet) implements Outcome {}

    /** The node was given {@code subnet}. */
    record Allocated(String subnet) implements Outcome {}

    /** The range has no free subnet; the message says why. */
    record Exhausted(String message) implements Outcome {}
  }

  private static final int ATTEMPTS = 3;

  private final KubernetesClient client;
  private final ClusterNetwork network;
  private final Set<String> namespaces;
  private final PatchContext apply =
      new PatchContext.Builder()
          .withPatchType(PatchType.SERVER_SIDE_APPLY)
          .withFieldManager(StatusApply.OPERATOR)
          .withForce(false)
          .build();

  /**
   * @param namespaces where MicroVMs are read (those the operator watches; empty means all)
   */
  public SubnetAllocator(KubernetesClient client, ClusterNetwork network, Set<String> namespaces) {
    if (!network.enabled()) {
      throw new NetworkException("no cluster range is configured to allocate node subnets from");
    }
    this.client = client;
    this.network = network;
    this.namespaces = Set.copyOf(namespaces);
  }

  /** Gives {@code node} a subnet unless it has one. */
  public synchronized Outcome ensure(MicroVMNode node) {
    if (node.getSpec() != null && node.getSpec().getSubnet() != null) {
      return new Outcome.Held(node.getSpec().getSubnet());
    }
    String name = node.getMetadata().getName();
    for (int attempt = 1; ; attempt++) {
      // Live reads, not the informer's cache: it may not show yet what was just allocated.
      List<MicroVMNode> nodes = client.resources(MicroVMNode.class).list().getItems();
      MicroVMNode fresh =
          nodes.stream()
              .filter(n -> name.equals(n.getMetadata().getName()))
              .findFirst()
              .orElse(null);
      if (fresh == null) {
        return new Outcome.Held(null); // deleted meanwhile: nothing to allocate
      }
      if (fresh.getSpec() != null && fresh.getSpec().getSubnet() != null) {
        return new Outcome.Held(fresh.getSpec().getSubnet());
      }
      Choice choice = choose(name, nodes, vms());
      if (choice.subnet() == null) {
        return new Outcome.Exhausted(choice.why());
      }
      try {
        write(fresh, choice.subnet());
        return new Outcome.Allocated(choice.subnet().toString());
      } catch (KubernetesClientException e) {
        if (!StatusApply.isStaleOrGone(e) || attempt == ATTEMPTS) {
          throw e;
        }
      }
    }
  }

  private record Choice(Ipv4Block subnet, String why) {}

  /**
   * The lowest free subnet, preferring one that only this node's own VMs hold addresses in (a node
   * that registers again under its name gets its subnet back while its VMs are there).
   */
  private Choice choose(String name, List<MicroVMNode> nodes, List<MicroVM> vms) {
    Ipv4Block range = network.clusterCidr();
    int size = network.nodeMaskSize();
    BitSet taken = new BitSet();
    for (MicroVMNode n : nodes) {
      if (name.equals(n.getMetadata().getName())) {
        continue;
      }
      if (n.getSpec() != null) {
        mark(taken, n.getSpec().getSubnet());
      }
      if (n.getStatus() != null) {
        mark(taken, n.getStatus().getSubnet());
      }
    }
    TreeSet<Long> ownVms = new TreeSet<>();
    for (MicroVM vm : vms) {
      for (int ip : addresses(vm)) {
        if (!range.contains(ip)) {
          continue;
        }
        long index = range.indexOf(ip, size);
        if (vm.getStatus() != null && name.equals(vm.getStatus().getNodeName())) {
          ownVms.add(index);
        } else {
          taken.set((int) index);
        }
      }
    }
    for (long index : ownVms) {
      if (!taken.get((int) index)) {
        return new Choice(range.block(size, index), null);
      }
    }
    long count = range.count(size);
    int free = taken.nextClearBit(0);
    if (free < count) {
      return new Choice(range.block(size, free), null);
    }
    return new Choice(
        null,
        "no free /"
            + size
            + " subnet is left in the cluster range "
            + range
            + ": all "
            + count
            + " are held by MicroVMNodes or by addresses of MicroVMs; widen the range"
            + " (network.clusterCIDR) or delete MicroVMNodes of nodes that left, and their VMs");
  }

  /** Marks the node-sized blocks of the range that {@code subnet} overlaps. */
  private void mark(BitSet taken, String subnet) {
    if (subnet == null) {
      return;
    }
    Ipv4Block block;
    try {
      block = Ipv4Block.parse(subnet);
    } catch (NetworkException e) {
      return; // the CRD admits only networks; an odd value cannot hold a block of the range
    }
    Ipv4Block range = network.clusterCidr();
    if (!block.overlaps(range)) {
      return;
    }
    int size = network.nodeMaskSize();
    Ipv4Block inner = block.prefix() >= range.prefix() ? block : range;
    long first = range.indexOf(inner.address(), size);
    long last = range.indexOf(inner.address() + (int) ((1L << (32 - inner.prefix())) - 1), size);
    taken.set((int) first, (int) last + 1);
  }

  private static List<Integer> addresses(MicroVM vm) {
    List<Integer> out = new ArrayList<>();
    if (vm.getStatus() == null || vm.getStatus().getNetwork() == null) {
      return out;
    }
    for (NetworkInterfaceStatus nic : vm.getStatus().getNetwork()) {
      if (nic.getIp() == null) {
        continue;
      }
      try {
        out.add(Ipv4Block.parseAddress(nic.getIp()));
      } catch (NetworkException e) {
        // not an IPv4 address: it cannot collide with the range
      }
    }
    return out;
  }

  private List<MicroVM> vms() {
    var all = client.resources(MicroVM.class);
    if (namespaces.isEmpty()) {
      return all.inAnyNamespace().list().getItems();
    }
    List<MicroVM> out = new ArrayList<>();
    for (String ns : namespaces) {
      out.addAll(all.inNamespace(ns).list().getItems());
    }
    return out;
  }

  /** Applies only spec.subnet, if the node is still as read. */
  private void write(MicroVMNode read, Ipv4Block subnet) {
    Map<String, Object> metadata = new LinkedHashMap<>();
    metadata.put("name", read.getMetadata().getName());
    metadata.put("resourceVersion", read.getMetadata().getResourceVersion());
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("apiVersion", read.getApiVersion());
    body.put("kind", read.getKind());
    body.put("metadata", metadata);
    body.put("spec", Map.of("subnet", subnet.toString()));
    client.resource(read).patch(apply, client.getKubernetesSerialization().asJson(body));
  }
}
