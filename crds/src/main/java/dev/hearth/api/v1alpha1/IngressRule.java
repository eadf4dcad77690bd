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
 * Who may open connections to the guest from outside its node's guest subnet (pods, nodes, other
 * nodes' VMs), which the default policy refuses: a source IPv4 network and, optionally, the guest's
 * ports.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "Sources that may open connections to the guest from outside its node's guest subnet (pods,"
        + " nodes, other nodes' MicroVMs), which the default policy refuses: an IPv4 network and,"
        + " optionally, the guest's protocols and ports, as a NetworkPolicy ingress rule.")
public class IngressRule extends ApiValue {
  /** The most ports one rule lists. */
  public static final int MAX_PORTS = 16;

  @JsonPropertyDescription(
      "The sources: an IPv4 network in CIDR form, such as the cluster's pod network"
          + " 10.244.0.0/16, or 0.0.0.0/0 for any. It does not open other MicroVMs on the node's"
          + " bridge (see allowSameNamespace).")
  @Required
  @Size(max = 18)
  @ValidationRule(
      value = "self.matches('" + CelText.IPV4_CIDR + "')",
      message = "cidr must be an IPv4 network in CIDR form, such as 10.244.0.0/16")
  @ValidationRule(
      value = CelText.CIDR_IS_NETWORK,
      message =
          "cidr must be a network address: the bits after the prefix must be zero (such as"
              + " 10.96.0.0/12, not 10.96.0.1/12)")
  private String cidr;

  @JsonPropertyDescription(
      "The guest's protocols and ports opened to cidr; when empty or absent, every protocol and"
          + " port. At most 16.")
  @Size(max = MAX_PORTS)
  private List<EgressPort> ports = new ArrayList<>();

  public IngressRule() {}

  public IngressRule(String cidr, List<EgressPort> ports) {
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
