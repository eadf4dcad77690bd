package dev.hearth.agent.node;

import dev.hearth.agent.net.GuestNetwork;
import dev.hearth.agent.net.IpBlock;
import dev.hearth.api.v1alpha1.MicroVMNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches every MicroVMNode and hands the node's guest network the other nodes' guest subnets
 * (allocated {@code spec.subnet}, else the reported {@code status.subnet}) with the addresses they
 * are reached through ({@code status.nodeAddress}). Nodes without both are left out; a node that is
 * deleted loses its route.
 */
public final class PeerRoutes implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PeerRoutes.class);

  private final KubernetesClient client;
  private final String self;
  private final GuestNetwork network;
  private SharedIndexInformer<MicroVMNode> informer;

  public PeerRoutes(KubernetesClient client, String self, GuestNetwork network) {
    this.client = client;
    this.self = self;
    this.network = network;
  }

  /** Starts watching; the routes follow every change from the first list on. */
  public PeerRoutes start() {
    informer =
        client
            .resources(MicroVMNode.class)
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(MicroVMNode n) {
                    sync();
                  }

                  @Override
                  public void onUpdate(MicroVMNode old, MicroVMNode n) {
                    sync();
                  }

                  @Override
                  public void onDelete(MicroVMNode n, boolean unknown) {
                    sync();
                  }
                },
                0);
    sync();
    return this;
  }

  private synchronized void sync() {
    if (informer == null) {
      return;
    }
    Map<IpBlock, InetAddress> peers = new HashMap<>();
    for (MicroVMNode n : informer.getStore().list()) {
      if (self.equals(n.getMetadata().getName()) || n.getStatus() == null) {
        continue;
      }
      String subnet =
          n.getSpec() != null && n.getSpec().getSubnet() != null
              ? n.getSpec().getSubnet()
              : n.getStatus().getSubnet();
      String address = n.getStatus().getNodeAddress();
      if (subnet == null || address == null) {
        continue;
      }
      try {
        peers.put(IpBlock.parse(subnet), InetAddress.ofLiteral(address));
      } catch (IllegalArgumentException e) {
        // The CRD admits only networks and addresses; an odd value is not routed.
        LOG.warn("not routing node {}: {}", n.getMetadata().getName(), e.getMessage());
      }
    }
    try {
      network.peers(peers);
    } catch (RuntimeException e) {
      LOG.warn("could not route the other nodes' guest subnets: {}", e.getMessage());
    }
  }

  @Override
  public synchronized void close() {
    if (informer != null) {
      informer.close();
      informer = null;
    }
  }
}
