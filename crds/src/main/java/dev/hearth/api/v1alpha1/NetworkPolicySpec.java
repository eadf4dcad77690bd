package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Size;
import java.util.ArrayList;
import java.util.List;

/**
 * What a VM's interfaces may reach beyond the default policy. By default a guest reaches the
 * outside through the node's NAT and nothing else: not the node's own addresses, not link-local
 * addresses (cloud metadata), not the cluster's private networks, not other namespaces' VMs.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "What the VM's network interfaces may reach beyond the default policy. By default a guest"
        + " reaches the outside through the node's NAT, and the MicroVMs of its own namespace on"
        + " the same node; not the node's own addresses, not link-local addresses (cloud"
        + " metadata at 169.254.169.254), not the cluster's private networks (pods, Services),"
        + " not other namespaces' MicroVMs. A guest sends only from its own MAC and IPv4 address,"
        + " and no IPv6. Nothing outside the node's guest subnet opens connections to the guest"
        + " unless ingress lets it.")
public class NetworkPolicySpec extends ApiValue {
  /** The most egress rules one VM carries (each becomes nftables rules on its node). */
  public static final int MAX_EGRESS_RULES = 32;

  @JsonPropertyDescription(
      "Whether this VM and the other MicroVMs of its namespace on the same node reach each other"
          + " on the node's bridge (default true). Both VMs must allow it. MicroVMs of other"
          + " namespaces never do.")
  @Default("true")
  private Boolean allowSameNamespace = true;

  @JsonPropertyDescription(
      "Destinations the guest may reach although the default policy blocks them, such as a"
          + " Service network, the cluster DNS or a private network. The outside is reachable"
          + " without a rule. At most 32.")
  @Size(max = MAX_EGRESS_RULES)
  private List<PeerRule> egress = new ArrayList<>();

  @JsonPropertyDescription(
      "Sources outside the node's guest subnet that may open connections to the guest: pods (a"
          + " Service in front of the VM needs the pod network here), nodes, other nodes'"
          + " MicroVMs. By default none may; replies to the guest's own connections and the"
          + " node agent's readiness probe always pass. At most 32.")
  @Size(max = MAX_EGRESS_RULES)
  private List<PeerRule> ingress = new ArrayList<>();

  public NetworkPolicySpec() {}

  public List<PeerRule> getIngress() {
    return ingress;
  }

  public void setIngress(List<PeerRule> ingress) {
    this.ingress = ingress;
  }

  public Boolean getAllowSameNamespace() {
    return allowSameNamespace;
  }

  public void setAllowSameNamespace(Boolean allowSameNamespace) {
    this.allowSameNamespace = allowSameNamespace;
  }

  public List<PeerRule> getEgress() {
    return egress;
  }

  public void setEgress(List<PeerRule> egress) {
    this.egress = egress;
  }

  /** {@code allowSameNamespace} with the schema default applied. */
  public boolean allowSameNamespaceOrDefault() {
    return allowSameNamespace == null || allowSameNamespace;
  }
}
