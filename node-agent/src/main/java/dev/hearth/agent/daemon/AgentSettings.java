package dev.hearth.agent.daemon;

import dev.hearth.agent.image.Destinations;
import dev.hearth.agent.ipam.Cidr;
import dev.hearth.agent.net.IpBlock;
import dev.hearth.agent.node.NodeRegistration;
import dev.hearth.agent.spec.ContainerBoot;
import dev.hearth.agent.spec.LaunchImages;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.common.HearthBuild;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
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
 * @see #builder
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
    InetAddress nodeAddress,
    Set<String> plainHttpRegistries,
    ContainerBoot containerBoot) {

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
  public Optional<String> advertisedHost() {
    if (!advertiseAddress.isEmpty()) {
      return Optional.of(advertiseAddress);
    }
    if (http.getAddress() == null || http.getAddress().isAnyLocalAddress()) {
      return Optional.empty();
    }
    return Optional.of(http.getAddress().getHostAddress());
  }

  /**
   * Settings for agent {@code nodeName}, keeping its state under {@code stateDir} and naming images
   * relative to {@code imagesDir}; what is not set is as documented on each setter.
   */
  public static Builder builder(String nodeName, Path stateDir, Path imagesDir) {
    return new Builder(nodeName, stateDir, imagesDir);
  }

  /** Builds {@link AgentSettings}; the record's constructor checks them. */
  public static final class Builder {
    private final String nodeName;
    private final Path stateDir;
    private final Path imagesDir;
    private Cidr subnet;
    private String bridge = "hearth0";
    private List<IpBlock> guestDenied = IpBlock.PRIVATE_NETWORKS;
    private InetSocketAddress http = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    private String advertiseAddress = "";
    private String leaseNamespace = HearthApi.DEFAULT_LEASE_NAMESPACE;
    private int leaseDurationSeconds = HearthApi.DEFAULT_LEASE_DURATION_SECONDS;
    private NodeRegistration.Reservations reserved = new NodeRegistration.Reservations(0, 0);
    private long imageCacheBytes = 10L << 30;
    private Destinations imageDestinations = Destinations.PUBLIC;
    private int consoleBufferBytes = 64 << 10;
    private Duration stopGrace = Duration.ofSeconds(10);
    private String version = HearthBuild.version();
    private long vmWritableBytes = LaunchImages.DEFAULT_WRITABLE_BYTES;
    private InetAddress nodeAddress;
    private Set<String> plainHttpRegistries = Set.of();
    private ContainerBoot containerBoot = ContainerBoot.DEFAULT;

    private Builder(String nodeName, Path stateDir, Path imagesDir) {
      this.nodeName = nodeName;
      this.stateDir = stateDir;
      this.imagesDir = imagesDir;
    }

    /** The guests' subnet; default null: the one the operator allocates to the node. */
    public Builder subnet(Cidr subnet) {
      this.subnet = subnet;
      return this;
    }

    /** The guests' bridge; default {@code hearth0}. */
    public Builder bridge(String bridge) {
      this.bridge = bridge;
      return this;
    }

    /** Networks guests do not reach; default {@link IpBlock#PRIVATE_NETWORKS}. */
    public Builder guestDenied(List<IpBlock> guestDenied) {
      this.guestDenied = guestDenied;
      return this;
    }

    /** Where the HTTPS server listens; default loopback, on any free port. */
    public Builder http(InetSocketAddress http) {
      this.http = http;
      return this;
    }

    /** The address clients reach the HTTPS server at; default empty: the bound address. */
    public Builder advertiseAddress(String advertiseAddress) {
      this.advertiseAddress = advertiseAddress;
      return this;
    }

    /** Where the node Lease lives; default {@link HearthApi#DEFAULT_LEASE_NAMESPACE}. */
    public Builder leaseNamespace(String leaseNamespace) {
      this.leaseNamespace = leaseNamespace;
      return this;
    }

    /** The node Lease's duration; default {@link HearthApi#DEFAULT_LEASE_DURATION_SECONDS}. */
    public Builder leaseDurationSeconds(int leaseDurationSeconds) {
      this.leaseDurationSeconds = leaseDurationSeconds;
      return this;
    }

    /** What the node keeps for itself; default nothing. */
    public Builder reserved(NodeRegistration.Reservations reserved) {
      this.reserved = reserved;
      return this;
    }

    /** The image cache's size; default 10 GiB. */
    public Builder imageCacheBytes(long imageCacheBytes) {
      this.imageCacheBytes = imageCacheBytes;
      return this;
    }

    /** Which addresses image URLs may reach; default {@link Destinations#PUBLIC}. */
    public Builder imageDestinations(Destinations imageDestinations) {
      this.imageDestinations = imageDestinations;
      return this;
    }

    /** Serial output kept per VM; default 64 KiB. */
    public Builder consoleBufferBytes(int consoleBufferBytes) {
      this.consoleBufferBytes = consoleBufferBytes;
      return this;
    }

    /** How long a VM gets to shut down before it is stopped hard; default 10 s. */
    public Builder stopGrace(Duration stopGrace) {
      this.stopGrace = stopGrace;
      return this;
    }

    /** The agent's version, as it reports it; default this build's. */
    public Builder version(String version) {
      this.version = version;
      return this;
    }

    /** The bound on a VM's writable disks; default {@link LaunchImages#DEFAULT_WRITABLE_BYTES}. */
    public Builder vmWritableBytes(long vmWritableBytes) {
      this.vmWritableBytes = vmWritableBytes;
      return this;
    }

    /** The node's address for routes between nodes; default null: no routes. */
    public Builder nodeAddress(InetAddress nodeAddress) {
      this.nodeAddress = nodeAddress;
      return this;
    }

    /** OCI registries reached over plain http; default none. */
    public Builder plainHttpRegistries(Set<String> plainHttpRegistries) {
      this.plainHttpRegistries = plainHttpRegistries;
      return this;
    }

    /** What spec.container VMs boot; default {@link ContainerBoot#DEFAULT}. */
    public Builder containerBoot(ContainerBoot containerBoot) {
      this.containerBoot = containerBoot;
      return this;
    }

    public AgentSettings build() {
      return new AgentSettings(
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
          containerBoot);
    }
  }
}
