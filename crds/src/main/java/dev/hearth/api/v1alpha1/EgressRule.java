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
 * One destination the guest may reach although the default policy blocks it: an IPv4 network and,
 * optionally, ports.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "A destination the guest may reach although the default policy blocks it (the node's own"
        + " addresses, link-local addresses such as 169.254.169.254, the cluster's private"
        + " networks): an IPv4 network and, optionally, protocols and ports.")
public class EgressRule extends ApiValue {
  /** The most ports one rule lists. */
  public static final int MAX_PORTS = 16;

  @JsonPropertyDescription(
      "The destination: an IPv4 network in CIDR form, such as 10.96.0.10/32 or 192.168.0.0/16."
          + " It does not open other MicroVMs on the node's bridge (see allowSameNamespace).")
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
      "Protocols and destination ports opened towards cidr; when empty or absent, every protocol"
          + " and port. At most 16.")
  @Size(max = MAX_PORTS)
  private List<EgressPort> ports = new ArrayList<>();

  public EgressRule() {}

  public EgressRule(String cidr, List<EgressPort> ports) {
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
