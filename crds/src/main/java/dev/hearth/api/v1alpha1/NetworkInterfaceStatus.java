package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** What the agent wired for one interface. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription("What the agent wired for one network interface: its address, MAC and tap.")
public class NetworkInterfaceStatus extends ApiValue {

  @JsonPropertyDescription("Name of the interface, as in spec.network.")
  private String name;

  @JsonPropertyDescription("Guest IPv4 address, allocated from the node's subnet.")
  private String ip;

  @JsonPropertyDescription("Guest MAC address in use.")
  private String mac;

  @JsonPropertyDescription("Name of the tap device on the node.")
  private String tap;

  public NetworkInterfaceStatus() {}

  public NetworkInterfaceStatus(String name, String ip, String mac, String tap) {
    this.name = name;
    this.ip = ip;
    this.mac = mac;
    this.tap = tap;
  }

  public String getName() {
    return name;
  }

  public void setName(String name) {
    this.name = name;
  }

  public String getIp() {
    return ip;
  }

  public void setIp(String ip) {
    this.ip = ip;
  }

  public String getMac() {
    return mac;
  }

  public void setMac(String mac) {
    this.mac = mac;
  }

  public String getTap() {
    return tap;
  }

  public void setTap(String tap) {
    this.tap = tap;
  }
}
