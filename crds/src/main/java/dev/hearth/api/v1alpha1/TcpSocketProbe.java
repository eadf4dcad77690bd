package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** A TCP port of the guest that must accept a connection, as a Pod probe's tcpSocket. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "A TCP port of the guest, on the VM's first network interface address, that must accept a"
        + " connection, as a Pod probe's tcpSocket.")
public class TcpSocketProbe extends ApiValue {
  @JsonPropertyDescription("The guest's TCP port, 1 to 65535.")
  @Required
  @ValidationRule(
      value = "self >= 1 && self <= 65535",
      message = "tcpSocket.port must be a TCP port from 1 to 65535")
  private Integer port;

  public TcpSocketProbe() {}

  public TcpSocketProbe(Integer port) {
    this.port = port;
  }

  public Integer getPort() {
    return port;
  }

  public void setPort(Integer port) {
    this.port = port;
  }
}
