package dev.hearth.agent.daemon;

import dev.hearth.agent.image.Destinations;
import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.net.IpBlock;
import dev.hearth.agent.node.NodeRegistration;
import dev.hearth.agent.spec.ContainerBoot;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * How one node agent runs.
 *
 * @param stateDir IPAM, the image cache ({@code image-cache/}) and VM disks
 * @param subnet the guests' subnet; null: the one the operator allocates to the node ({@code
 *     MicroVMNode spec.subnet}), which the agent waits for at start
 * @param imagesDir the images root: a spec's image paths are relative to it, and nothing outside it
 *     can be named
 * @param guestDenied networks guests do not reach unless a VM's {@code spec.networkPolicy.egress}
 *     opens them: the cluster's pod, Service and node networks ({@code --guest-denied-networks})
 * @param leaseNamespace where the node Lease lives (the chart's release namespace)
 * @param imageCacheBytes the image cache's size: unreferenced images are evicted above it, and a
 *     download may not take it beyond it
 * @param imageDestinations which addresses image URLs may reach: {@code
 *     --image-allow-private-networks} chooses public only or public and private; only tests choose
 *     {@link Destinations#ANY}
 * @param consoleBufferBytes serial output kept per VM
 * @param advertiseAddress the node address clients reach the HTTPS server at (published in each
 *     running VM's status.console); empty: the bound address, unless it is a wildcard
 * @param vmWritableBytes the most a VM's writable disk copies may take of the node's disk together;
 *     a VM asking for more is refused before any copy is made
 * @param nodeAddress the node's IPv4 address other nodes route its guest subnet through (its
 *     InternalIP); null routes nothing between nodes
 * @param plainHttpRegistries OCI registries (host[:port]) reached over plain http, not https
 *     ({@code --insecure-registry}); none by default
 * @param containerBoot the kernel and initramfs under the images root that {@code spec.container}
 *     VMs boot ({@code --container-kernel}, {@code --container-initramfs})
 */
public record AgentSettings(
    String nodeName,
    Path stateDir,
    Path imagesDir,
    Cidr subnet,
    String bridge,
    List<IpBlock> guestDenied,
    InetSocketAddress http,
    String advertiseAddress,
    String leaseNamespace,
    int leaseDurationSeconds,
    NodeRegistration.Reservations reserved,
    long imageCacheBytes,
    Destinations imageDestinations,
    int consoleBufferBytes,
    Duration stopGrace,
    String version,
    long vmWritableBytes,
    java.net.InetAddress nodeAddress,
    Set<String> plainHttpRegistries,
    ContainerBoot containerBoot) {

  /** As the canonical constructor, container VMs booting {@link ContainerBoot#DEFAULT}. */
  public AgentSettings(
      String nodeName,
      Path stateDir,
      Path imagesDir,
      Cidr subnet,
      String bridge,
      List<IpBlock> guestDenied,
      InetSocketAddress http,
      String advertiseAddress,
      String leaseNamespace,
      int leaseDurationSeconds,
      NodeRegistration.Reservations reserved,
      long imageCacheBytes,
      Destinations imageDestinations,
      int consoleBufferBytes,
      Duration stopGrace,
      String version,
      long vmWritableBytes,
      java.net.InetAddress nodeAddress,
      Set<String> plainHttpRegistries) {
    this(
        nodeName,
        stateDir,
        imagesDir,
        subnet,
        bridge,
        guestDenied,
        http,
        advertiseAddress,
        leaseNamespace,
        leaseDurationSeconds,
        reserved,
        imageCacheBytes,
        imageDestinations,
        consoleBufferBytes,
        stopGrace,
        version,
        vmWritableBytes,
        nodeAddress,
        plainHttpRegistries,
        ContainerBoot.DEFAULT);
  }

  /**
   * As the canonical constructor, with no node address (no routes between nodes) and every OCI
   * registry reached over https.
   */
  public AgentSettings(
      String nodeName,
      Path stateDir,
      Path imagesDir,
      Cidr subnet,
      String bridge,
      List<IpBlock> guestDenied,
      InetSocketAddress http,
      String advertiseAddress,
      String leaseNamespace,
      int leaseDurationSeconds,
      NodeRegistration.Reservations reserved,
      long imageCacheBytes,
      Destinations imageDestinations,
      int consoleBufferBytes,
      Duration stopGrace,
      String version,
      long vmWritableBytes) {
    this(
        nodeName,
        stateDir,
        imagesDir,
        subnet,
        bridge,
        guestDenied,
        http,
        advertiseAddress,
        leaseNamespace,
        leaseDurationSeconds,
        reserved,
        imageCacheBytes,
        imageDestinations,
        consoleBufferBytes,
        stopGrace,
        version,
        vmWritableBytes,
        null,
        Set.of());
  }

  /** As the canonical constructor, with the default bound on a VM's writable disks. */
  public AgentSettings(
      String nodeName,
      Path stateDir,
      Path imagesDir,
      Cidr subnet,
      String bridge,
      List<IpBlock> guestDenied,
      InetSocketAddress http,
      String advertiseAddress,
      String leaseNamespace,
      int leaseDurationSeconds,
      NodeRegistration.Reservations reserved,
      long imageCacheBytes,
      Destinations imageDestinations,
      int consoleBufferBytes,
      Duration stopGrace,
      String version) {
    this(
        nodeName,
        stateDir,
        imagesDir,
        subnet,
        bridge,
        guestDenied,
        http,
        advertiseAddress,
        leaseNamespace,
        leaseDurationSeconds,
        reserved,
        imageCacheBytes,
        imageDestinations,
        consoleBufferBytes,
        stopGrace,
        version,
        dev.hearth.agent.spec.LaunchImages.DEFAULT_WRITABLE_BYTES,
        null,
        Set.of());
  }

  public AgentSettings {
    plainHttpRegistries = Set.copyOf(plainHttpRegistries);
    if (imageCacheBytes <= 0 || vmWritableBytes <= 0) {
      throw new IllegalArgumentException(
          "the image cache ("
              + imageCacheBytes
              + " bytes) and a VM's writable disks ("
              + vmWritableBytes
              + " bytes) need a positive bound");
    }
    if (nodeName == null
        || !nodeName.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
        || nodeName.length() > 253) {
      throw new IllegalArgumentException(
          "node name '"
              + nodeName
              + "' is not a DNS subdomain (set --node-name or HEARTH_NODE_NAME)");
    }
    if (!bridge.matches("[A-Za-z0-9_.-]{1,15}")) {
      throw new IllegalArgumentException(
          "bridge name '" + bridge + "' is not a 1-15 character interface name");
    }
    guestDenied = List.copyOf(guestDenied);
    if (!advertiseAddress.isEmpty() && !advertiseAddress.matches("[0-9A-Za-z.:-]{1,253}")) {
      throw new IllegalArgumentException(
          "advertise address '" + advertiseAddress + "' is not an IP address or host name");
    }
    if (leaseDurationSeconds < 3) {
      throw new IllegalArgumentException(
          "lease duration " + leaseDurationSeconds + " s is below 3 s");
    }
  }

  /** The host of the console URL: the advertise address, else a specific bound address. */
  public java.util.Optional<String> advertisedHost() {
    if (!advertiseAddress.isEmpty()) {
      return java.util.Optional.of(advertiseAddress);
    }
    if (http.getAddress() == null || http.getAddress().isAnyLocalAddress()) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(http.getAddress().getHostAddress());
  }
}
