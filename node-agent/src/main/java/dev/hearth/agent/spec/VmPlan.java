package dev.hearth.agent.spec;

import dev.hearth.agent.image.ImageRef;
import dev.hearth.agent.net.Attachment;
import dev.hearth.agent.net.GuestPolicy;
import dev.hearth.agent.runtime.VmLaunch;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A MicroVM spec checked and translated into what the agent does: images to fetch, disks,
 * interfaces, and the live-updatable {@link VmLaunch.Limits}. Two plans that differ only in limits
 * need no restart.
 */
public record VmPlan(
    int vcpus,
    int memoryMiB,
    ImageRef kernel,
    Optional<ImageRef> initrd,
    String extraCmdline,
    Optional<DiskPlan> rootfs,
    List<DiskPlan> drives,
    List<NicPlan> nics,
    NetworkPolicyPlan networkPolicy,
    OptionalLong vsockCid,
    VmLaunch.Limits limits,
    Optional<ContainerPlan> container) {

  /** A plan without a container: the spec's own kernel (and initrd, rootfs). */
  public VmPlan(
      int vcpus,
      int memoryMiB,
      ImageRef kernel,
      Optional<ImageRef> initrd,
      String extraCmdline,
      Optional<DiskPlan> rootfs,
      List<DiskPlan> drives,
      List<NicPlan> nics,
      NetworkPolicyPlan networkPolicy,
      OptionalLong vsockCid,
      VmLaunch.Limits limits) {
    this(
        vcpus,
        memoryMiB,
        kernel,
        initrd,
        extraCmdline,
        rootfs,
        drives,
        nics,
        networkPolicy,
        vsockCid,
        limits,
        Optional.empty());
  }

  /** A disk to attach; {@code readOnly} disks use the shared cached image in place. */
  public record DiskPlan(String name, ImageRef source, boolean readOnly, Optional<String> serial) {}

  /** A network interface; the MAC is generated when the spec has none. */
  public record NicPlan(String name, Optional<String> mac) {}

  /**
   * What the interfaces may reach beyond the default policy ({@code spec.networkPolicy}).
   *
   * @param allowSameNamespace whether the VM and its namespace's other VMs reach each other
   * @param egress destinations opened although the default policy blocks them
   * @param ingress sources outside the node's guest subnet opened to the VM
   */
  public record NetworkPolicyPlan(
      boolean allowSameNamespace,
      List<GuestPolicy.Egress> egress,
      List<GuestPolicy.Ingress> ingress) {
    /** The default policy: same-namespace peers, nothing else opened. */
    public static final NetworkPolicyPlan DEFAULT =
        new NetworkPolicyPlan(true, List.of(), List.of());

    public NetworkPolicyPlan {
      egress = List.copyOf(egress);
      ingress = List.copyOf(ingress);
    }

    /** A plan that opens no sources to the VM. */
    public NetworkPolicyPlan(boolean allowSameNamespace, List<GuestPolicy.Egress> egress) {
      this(allowSameNamespace, egress, List.of());
    }

    /** The network layer's policy, with {@code group} (the namespace) naming the peers. */
    public GuestPolicy forGroup(String group) {
      return new GuestPolicy(group, allowSameNamespace, egress, ingress);
    }
  }

  public VmPlan {
    drives = List.copyOf(drives);
    nics = List.copyOf(nics);
  }

  /** The rootfs (first, when there is one) and the drives, in the order the guest sees them. */
  public List<DiskPlan> disks() {
    List<DiskPlan> all = new ArrayList<>();
    rootfs.ifPresent(all::add);
    all.addAll(drives);
    return all;
  }

  /** The OCI images the plan pulls (kernel, initrd, disks), each named once, in spec order. */
  public List<String> ociImages() {
    List<ImageRef> sources = new ArrayList<>();
    sources.add(kernel);
    initrd.ifPresent(sources::add);
    disks().forEach(d -> sources.add(d.source()));
    return sources.stream()
        .filter(s -> s instanceof ImageRef.Oci)
        .map(s -> ((ImageRef.Oci) s).reference().toString())
        .distinct()
        .toList();
  }

  /** Where the spec declares {@code disk}: {@code spec.rootfs} or {@code spec.drives[i]}. */
  public String fieldOf(DiskPlan disk) {
    if (rootfs.isPresent() && rootfs.get() == disk) {
      return "spec.rootfs";
    }
    return "spec.drives[" + drives.indexOf(disk) + "]";
  }

  /**
   * The kernel arguments Hearth generates, before the VMM's device arguments and the user's own
   * (which come last, so they can override): serial console, reboot through the i8042 (so that a
   * guest reboot ends the VM), the root disk, and {@code ip}, the first interface's address where
   * the VM has a network ({@code ip=} configures one interface; the guest configures the others).
   */
  public String generatedCmdline(Optional<String> ip) {
    StringBuilder s = new StringBuilder("console=ttyS0 reboot=k panic=1");
    if (container.isPresent()) {
      // The init in the initramfs mounts the image itself; the console is the container's output,
      // so the kernel keeps quiet. The boot timer gives the VM its boot time.
      s.append(" quiet hearth.boottimer=pio:0x")
          .append(Integer.toHexString(dev.hearth.vmm.arch.x86_64.X86Layout.BOOT_TIMER_PORT));
    } else {
      rootfs.ifPresent(r -> s.append(" root=/dev/vda ").append(r.readOnly() ? "ro" : "rw"));
    }
    ip.ifPresent(a -> s.append(' ').append(a));
    return s.toString();
  }

  /**
   * {@link #generatedCmdline(Optional)} for a VM wired to {@code attachments}: the first one's
   * address as {@code ip=} for {@code eth0}, with {@code hostname} (cut to 63 characters, the most
   * a host name holds) as the guest's host name.
   */
  public String generatedCmdline(String hostname, List<Attachment> attachments) {
    String host = hostname.length() > 63 ? hostname.substring(0, 63) : hostname;
    return generatedCmdline(
        attachments.stream().findFirst().map(a -> a.kernelIpArgument(host, "eth0")));
  }

  /**
   * Whether moving from {@code running} to this plan needs a reboot (anything but limits changed).
   */
  public boolean needsRestartFrom(VmPlan running) {
    return !withLimits(VmLaunch.Limits.NONE).equals(running.withLimits(VmLaunch.Limits.NONE));
  }

  public VmPlan withLimits(VmLaunch.Limits l) {
    return new VmPlan(
        vcpus,
        memoryMiB,
        kernel,
        initrd,
        extraCmdline,
        rootfs,
        drives,
        nics,
        networkPolicy,
        vsockCid,
        l,
        container);
  }
}
