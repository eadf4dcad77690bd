package dev.hearth.agent.net;

import dev.hearth.agent.ipam.Cidr;
import java.net.Inet4Address;

/** One guest interface wired to the node: its tap on the bridge, MAC and address. */
public record Attachment(
    String iface,
    String owner,
    String tap,
    String mac,
    Inet4Address ip,
    Cidr subnet,
    Inet4Address gateway) {

  /**
   * The kernel's {@code ip=} argument that configures this interface at boot: {@code
   * ip=<client>::<gateway>:<netmask>:<hostname>:<device>:off}. {@code device} is the guest's name
   * for it ({@code eth0} for the first virtio-net device).
   */
  public String kernelIpArgument(String hostname, String device) {
    return "ip="
        + ip.getHostAddress()
        + "::"
        + gateway.getHostAddress()
        + ":"
        + Cidr.format(subnet.netmask())
        + ":"
        + hostname
        + ":"
        + device
        + ":off";
  }
}
