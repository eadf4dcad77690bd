package dev.hearth.agent.reconcile;

import dev.hearth.agent.image.ImageSource;
import dev.hearth.agent.runtime.VmLaunch;
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
    ImageSource kernel,
    Optional<ImageSource> initrd,
    String extraCmdline,
    Optional<DiskPlan> rootfs,
    List<DiskPlan> drives,
    List<NicPlan> nics,
    OptionalLong vsockCid,
    VmLaunch.Limits limits) {

  /** A disk to attach; {@code readOnly} disks use the shared cached image in place. */
  public record DiskPlan(
      String name, ImageSource source, boolean readOnly, Optional<String> serial) {}

  /** A network interface; the MAC is generated when the spec has none. */
  public record NicPlan(String name, Optional<String> mac) {}

  public VmPlan {
    drives = List.copyOf(drives);
    nics = List.copyOf(nics);
  }

  /**
   * Whether moving from {@code running} to this plan needs a reboot (anything but limits changed).
   */
  public boolean needsRestartFrom(VmPlan running) {
    return !withLimits(VmLaunch.Limits.NONE).equals(running.withLimits(VmLaunch.Limits.NONE));
  }

  public VmPlan withLimits(VmLaunch.Limits l) {
    return new VmPlan(
        vcpus, memoryMiB, kernel, initrd, extraCmdline, rootfs, drives, nics, vsockCid, l);
  }
}
