package dev.hearth.operator.network;

/**
 * The cluster range node subnets are cut from, as the Kubernetes controller manager's {@code
 * --cluster-cidr} and {@code --node-cidr-mask-size}.
 *
 * @param clusterCidr the range, or null when the operator allocates nothing (each agent then uses
 *     the subnet it is configured with)
 * @param nodeMaskSize each node's subnet prefix, at least the range's and at most /30 (two guests,
 *     the gateway and broadcast)
 */
public record ClusterNetwork(Ipv4Block clusterCidr, int nodeMaskSize) {
  /** The chart's default node mask: a /24, 253 guests per node. */
  public static final int DEFAULT_NODE_MASK_SIZE = 24;

  /** No allocation. */
  public static final ClusterNetwork NONE = new ClusterNetwork(null, DEFAULT_NODE_MASK_SIZE);

  public ClusterNetwork {
    if (nodeMaskSize < 8 || nodeMaskSize > 30) {
      throw new NetworkException(
          "the node subnet mask size /" + nodeMaskSize + " is not from /8 to /30");
    }
    if (clusterCidr != null && nodeMaskSize < clusterCidr.prefix()) {
      throw new NetworkException(
          "the node subnet mask size /"
              + nodeMaskSize
              + " is shorter than the cluster range "
              + clusterCidr
              + ": a node subnet must fit in it");
    }
  }

  /** From the operator's options: an empty range means no allocation. */
  public static ClusterNetwork parse(String clusterCidr, int nodeMaskSize) {
    return new ClusterNetwork(
        clusterCidr == null || clusterCidr.isBlank() ? null : Ipv4Block.parse(clusterCidr.strip()),
        nodeMaskSize);
  }

  public boolean enabled() {
    return clusterCidr != null;
  }
}
