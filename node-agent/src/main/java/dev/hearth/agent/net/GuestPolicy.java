package dev.hearth.agent.net;

import java.util.List;

/**
 * What one VM's interfaces may reach beyond the default policy of {@link FirewallRules}: its peers
 * (the other VMs of its {@code group} that allow it too) and the {@code egress} destinations.
 *
 * @param group who the VM's peers may be: the node agent uses the MicroVM's namespace
 * @param allowGroup whether the VM and its group's other VMs that allow it reach each other
 * @param egress destinations opened although the default policy blocks them
 * @param ingress sources outside the node's guest subnet opened to the VM (by default none)
 */
public record GuestPolicy(
    String group, boolean allowGroup, List<Egress> egress, List<Ingress> ingress) {

  public GuestPolicy {
    egress = List.copyOf(egress);
    ingress = List.copyOf(ingress);
  }

  /** A policy that opens no sources to the VM. */
  public GuestPolicy(String group, boolean allowGroup, List<Egress> egress) {
    this(group, allowGroup, egress, List.of());
  }

  /** The default policy alone, with no peers: what a VM gets when nothing says otherwise. */
  public static GuestPolicy isolated(String vmUid) {
    return new GuestPolicy("vm:" + vmUid, false, List.of());
  }

  /** The transport protocols an egress port names. */
  public enum Protocol {
    TCP,
    UDP;

    String nft() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * A protocol and destination ports {@code first..last} (both included); {@code 0..65535} is every
   * port.
   */
  public record Ports(Protocol protocol, int first, int last) {
    public Ports {
      if (first < 0 || last > 65535 || first > last) {
        throw new IllegalArgumentException("ports " + first + ".." + last + " are not a range");
      }
    }

    public static Ports all(Protocol protocol) {
      return new Ports(protocol, 0, 65535);
    }

    boolean every() {
      return first == 0 && last == 65535;
    }
  }

  /** A destination network and the ports open towards it; every protocol when none is listed. */
  public record Egress(IpBlock to, List<Ports> ports) {
    public Egress {
      ports = List.copyOf(ports);
    }
  }

  /** A source network and the VM's ports open to it; every protocol when none is listed. */
  public record Ingress(IpBlock from, List<Ports> ports) {
    public Ingress {
      ports = List.copyOf(ports);
    }
  }
}
