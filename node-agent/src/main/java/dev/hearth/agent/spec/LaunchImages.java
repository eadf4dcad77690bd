package dev.hearth.agent.spec;

import dev.hearth.agent.image.ImageException;
import dev.hearth.agent.image.WritableCopy;
import dev.hearth.agent.runtime.VmLaunch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A plan's images on local disk: kernel, initrd, and its disks in the order the guest sees them
 * (the rootfs first), each writable one as the VM's own copy so that its writes never reach the
 * shared image or another VM.
 *
 * @param kernel the kernel image
 * @param initrd the initrd, if the plan has one
 * @param disks the rootfs (named {@code rootfs}) and the drives, ready for {@link VmLaunch}
 */
public record LaunchImages(Path kernel, Optional<Path> initrd, List<VmLaunch.Disk> disks) {

  public LaunchImages {
    disks = List.copyOf(disks);
  }

  /**
   * Resolves every image of {@code plan} through {@code images}. A writable disk's copy is {@code
   * diskDir/<name>}, made once: a copy that exists already is the VM's, kept across its restarts.
   */
  public static LaunchImages prepare(VmPlan plan, PlanImages images, Path diskDir)
      throws ImageException {
    return prepare(plan, images, diskDir, DEFAULT_WRITABLE_BYTES);
  }

  /** The default bound on a VM's writable disk copies together: 20 GiB. */
  public static final long DEFAULT_WRITABLE_BYTES = 20L << 30;

  /**
   * As {@link #prepare(VmPlan, PlanImages, Path)}, refusing before any copy is made when the VM's
   * writable disks would take more than {@code maxWritableBytes} of the node's disk together.
   */
  public static LaunchImages prepare(
      VmPlan plan, PlanImages images, Path diskDir, long maxWritableBytes) throws ImageException {
    Path kernel = images.resolve("spec.kernel.source", plan.kernel());
    Optional<Path> initrd = Optional.empty();
    if (plan.initrd().isPresent()) {
      initrd = Optional.of(images.resolve("spec.initrd", plan.initrd().get()));
    }
    List<Path> sources = new ArrayList<>();
    long writable = 0;
    for (VmPlan.DiskPlan d : plan.disks()) {
      Path image = images.resolve(plan.fieldOf(d) + ".source", d.source());
      sources.add(image);
      if (!d.readOnly()) {
        Path copy = diskDir.resolve(d.name());
        writable += size(Files.exists(copy) ? copy : image);
      }
    }
    if (writable > maxWritableBytes) {
      throw new ImageException.FetchFailed(
          "the VM's writable disks take "
              + writable
              + " bytes together, more than the node allows a VM ("
              + maxWritableBytes
              + " bytes)",
          null);
    }
    List<VmLaunch.Disk> disks = new ArrayList<>();
    for (int i = 0; i < plan.disks().size(); i++) {
      VmPlan.DiskPlan d = plan.disks().get(i);
      Path path = sources.get(i);
      if (!d.readOnly()) {
        path = diskDir.resolve(d.name());
        if (!Files.exists(path)) {
          WritableCopy.create(sources.get(i), path);
        }
      }
      disks.add(new VmLaunch.Disk(d.name(), path, d.readOnly(), d.serial()));
    }
    return new LaunchImages(kernel, initrd, disks);
  }

  /** The bytes a copy of {@code p} takes (its length: a sparse copy may take less). */
  private static long size(Path p) throws ImageException {
    try {
      return Files.size(p);
    } catch (java.io.IOException e) {
      throw new ImageException.FetchFailed("cannot read the size of a disk image", e);
    }
  }
}
