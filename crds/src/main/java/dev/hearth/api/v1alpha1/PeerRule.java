package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.ArrayList;
import java.util.List;

/**
 * Peers the default policy keeps apart from the guest, let through: an IPv4 network and,
 * optionally, protocols and ports. Under {@code egress} they are destinations the guest may reach
 * (the ports are theirs); under {@code ingress} sources that may open connections to the guest (the
 * ports are the guest's).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "Peers the default policy keeps apart from the guest, let through: an IPv4 network and,"
        + " optionally, protocols and ports, as a NetworkPolicy rule. Under egress they are"
        + " destinations the guest may reach (the node's own addresses, link-local addresses such"
        + " as 169.254.169.254 and the cluster's private networks are blocked by default); under"
        + " ingress, sources outside the node's guest subnet (pods, nodes, other nodes'"
        + " MicroVMs) that may open connections to the guest.")
public class PeerRule extends ApiValue {
  /** The most ports one rule lists. */
  public static final int MAX_PORTS = 16;

  @JsonPropertyDescription(
      "The peers: an IPv4 network in CIDR form, such as 10.96.0.10/32 (a Service), 10.244.0.0/16"
          + " (the pod network) or 0.0.0.0/0 (any). It does not open other MicroVMs on the"
          + " node's bridge (see allowSameNamespace).")
  @Required
  @Size(max = 18)
  @ValidationRule(
      value = "self.matches('" + CelText.IPV4_CIDR + "')",
      message = "cidr must be an IPv4 network in CIDR form, such as 10.96.0.10/32")
  @ValidationRule(
      value = CelText.CIDR_IS_NETWORK,
      message =
          "cidr must be a network address: the bits after the prefix must be zero (such as"
              + " 10.96.0.0/12, not 10.96.0.1/12)")
  private String cidr;

  @JsonPropertyDescription(
      "Protocols and ports opened between cidr and the guest: the peers' ports under egress, the"
          + " guest's under ingress; when empty or absent, every protocol and port. At most 16.")
  @Size(max = MAX_PORTS)
  private List<EgressPort> ports = new ArrayList<>();

  public PeerRule() {}

  public PeerRule(String cidr, List<EgressPort> ports) {
    this.cidr = cidr;
    this.ports = ports;
  }

  public String getCidr() {
    return cidr;
  }

  public void setCidr(String cidr) {
    this.cidr = cidr;
  }

  public List<EgressPort> getPorts() {
    return ports;
  }

  public void setPorts(List<EgressPort> ports) {
    this.ports = ports;
  }
}
