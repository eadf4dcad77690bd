package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * A protocol and destination port (or range) that a {@link PeerRule} opens, shaped like a
 * Kubernetes NetworkPolicyPort: no port means every port of the protocol.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "A protocol and destination port, or port range, that an egress or ingress rule opens, as"
        + " in a Kubernetes NetworkPolicy: without port, every port of the protocol.")
@ValidationRule(
    value = "!has(self.endPort) || has(self.port)",
    message = "endPort needs port: it ends the range that port starts",
    fieldPath = ".endPort")
@ValidationRule(
    value = "!has(self.endPort) || !has(self.port) || self.endPort >= self.port",
    message = "endPort must not be below port: the range is port to endPort, both included",
    fieldPath = ".endPort")
public class EgressPort extends ApiValue {
  /** The highest port number. */
  public static final int MAX_PORT = 65535;

  @JsonPropertyDescription("The transport protocol, TCP or UDP (default TCP).")
  @Default("TCP")
  private EgressProtocol protocol = EgressProtocol.TCP;

  @JsonPropertyDescription(
      "The destination port, 1 to 65535, or the first port of a range with endPort. Without it,"
          + " every port of the protocol.")
  @Min(1)
  @Max(MAX_PORT)
  private Integer port;

  @JsonPropertyDescription(
      "The last destination port of the range that port starts, included; at least port.")
  @Min(1)
  @Max(MAX_PORT)
  private Integer endPort;

  public EgressPort() {}

  public EgressPort(EgressProtocol protocol, Integer port) {
    this.protocol = protocol;
    this.port = port;
  }

  public EgressProtocol getProtocol() {
    return protocol;
  }

  public void setProtocol(EgressProtocol protocol) {
    this.protocol = protocol;
  }

  public Integer getPort() {
    return port;
  }

  public void setPort(Integer port) {
    this.port = port;
  }

  public Integer getEndPort() {
    return endPort;
  }

  public void setEndPort(Integer endPort) {
    this.endPort = endPort;
  }

  /** The protocol with the schema default applied. */
  public EgressProtocol protocolOrDefault() {
    return protocol == null ? EgressProtocol.TCP : protocol;
  }
}
