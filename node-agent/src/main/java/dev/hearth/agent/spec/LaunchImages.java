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
    Path kernel = images.resolve("spec.kernel.source", plan.kernel());
    Optional<Path> initrd = Optional.empty();
    if (plan.initrd().isPresent()) {
      initrd = Optional.of(images.resolve("spec.initrd", plan.initrd().get()));
    }
    List<VmLaunch.Disk> disks = new ArrayList<>();
    for (VmPlan.DiskPlan d : plan.disks()) {
      Path image = images.resolve(plan.fieldOf(d) + ".source", d.source());
      Path path = image;
      if (!d.readOnly()) {
        path = diskDir.resolve(d.name());
        if (!Files.exists(path)) {
          WritableCopy.create(image, path);
        }
      }
      disks.add(new VmLaunch.Disk(d.name(), path, d.readOnly(), d.serial()));
    }
    return new LaunchImages(kernel, initrd, disks);
  }
}
