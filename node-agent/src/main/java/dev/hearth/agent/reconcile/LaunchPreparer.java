package dev.hearth.agent.reconcile;

import dev.hearth.agent.image.ImageException;
import dev.hearth.agent.image.WritableCopy;
import dev.hearth.agent.ipam.IpamException;
import dev.hearth.agent.metrics.VmMeters;
import dev.hearth.agent.net.Attachment;
import dev.hearth.agent.net.NetworkException;
import dev.hearth.agent.net.NodeNetwork;
import dev.hearth.agent.runtime.VmLaunch;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns a {@link VmPlan} into a {@link VmLaunch}: fetches images (held for the VM's uid in the
 * cache), gives each writable disk its own copy under the VM's directory, and wires the network.
 * Failures become a {@link PrepareException} with the condition reason.
 */
final class LaunchPreparer {
  private final AgentContext ctx;

  LaunchPreparer(AgentContext ctx) {
    this.ctx = ctx;
  }

  /** A launch plus the interfaces wired for it. */
  record Prepared(VmLaunch launch, List<Attachment> attachments) {}

  /** Preparing a VM failed; {@code reason} is CamelCase for the Ready condition. */
  static final class PrepareException extends Exception {
    private final String reason;

    PrepareException(String reason, String message, Throwable cause) {
      super(message, cause);
      this.reason = reason;
    }

    String reason() {
      return reason;
    }
  }

  Prepared prepare(
      String namespace, String name, String uid, VmPlan plan, OutputStream console, VmMeters meters)
      throws PrepareException {
    Path kernel;
    Optional<Path> initrd = Optional.empty();
    List<VmLaunch.Disk> disks = new ArrayList<>();
    try {
      kernel = ctx.images().resolve(plan.kernel(), uid);
      if (plan.initrd().isPresent()) {
        initrd = Optional.of(ctx.images().resolve(plan.initrd().get(), uid));
      }
      List<VmPlan.DiskPlan> all = new ArrayList<>();
      plan.rootfs().ifPresent(all::add);
      all.addAll(plan.drives());
      for (VmPlan.DiskPlan d : all) {
        Path image = ctx.images().resolve(d.source(), uid);
        Path path = image;
        if (!d.readOnly()) {
          // The VM's own disk: made once, kept across restarts of the same VM, freed on delete.
          path = ctx.vmDir(uid).resolve("disks").resolve(d.name());
          if (!Files.exists(path)) {
            WritableCopy.create(image, path);
          }
        }
        disks.add(new VmLaunch.Disk(d.name(), path, d.readOnly(), d.serial()));
      }
    } catch (ImageException e) {
      throw new PrepareException(e.reason(), e.getMessage(), e);
    }
    List<Attachment> attachments;
    try {
      attachments =
          ctx.network()
              .attach(
                  uid,
                  plan.nics().stream()
                      .map(n -> new NodeNetwork.InterfaceRequest(n.name(), n.mac()))
                      .toList());
    } catch (NetworkException | IpamException e) {
      throw new PrepareException("NetworkSetupFailed", e.getMessage(), e);
    }
    List<VmLaunch.Nic> nics =
        attachments.stream().map(a -> new VmLaunch.Nic(a.iface(), a.tap(), a.mac())).toList();
    VmLaunch launch =
        new VmLaunch(
            namespace + "/" + name,
            plan.vcpus(),
            plan.memoryMiB(),
            kernel,
            initrd,
            cmdline(name, plan, attachments),
            plan.extraCmdline(),
            disks,
            nics,
            plan.vsockCid(),
            plan.limits(),
            console,
            meters);
    return new Prepared(launch, attachments);
  }

  /**
   * The arguments the agent generates: serial console, reboot through the i8042 (so a guest reboot
   * ends the VM), root disk, and the first interface's address ({@code ip=} configures one
   * interface; the others are configured by the guest).
   */
  static String cmdline(String hostname, VmPlan plan, List<Attachment> attachments) {
    StringBuilder s = new StringBuilder("console=ttyS0 reboot=k panic=1");
    if (plan.rootfs().isPresent()) {
      s.append(" root=/dev/vda ").append(plan.rootfs().get().readOnly() ? "ro" : "rw");
    }
    if (!attachments.isEmpty()) {
      String host = hostname.length() > 63 ? hostname.substring(0, 63) : hostname;
      s.append(' ').append(attachments.getFirst().kernelIpArgument(host, "eth0"));
    }
    return s.toString();
  }
}
