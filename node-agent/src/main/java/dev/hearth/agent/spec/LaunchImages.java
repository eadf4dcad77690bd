package dev.hearth.agent.spec;

import dev.hearth.agent.container.ContainerException;
import dev.hearth.agent.container.ContainerInitrd;
import dev.hearth.agent.container.ContainerProcess;
import dev.hearth.agent.container.ImageConfig;
import dev.hearth.agent.image.ImageException;
import dev.hearth.agent.image.ImageRef;
import dev.hearth.agent.image.ImageReference;
import dev.hearth.agent.image.WritableCopy;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.api.v1alpha1.HearthApi;
import dev.hearth.vmm.arch.x86_64.X86Layout;
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
 * @param containerImage a container VM's image, pinned to the manifest digest that its config and
 *     root disk were both pulled by
 */
public record LaunchImages(
    Path kernel,
    Optional<Path> initrd,
    List<VmLaunch.Disk> disks,
    Optional<ImageReference> containerImage) {

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
    boolean container = plan.container().isPresent();
    Path kernel =
        images.resolve(
            container ? "the node's container kernel" : "spec.kernel.source", plan.kernel());
    Optional<Path> initrd = Optional.empty();
    if (plan.initrd().isPresent()) {
      initrd =
          Optional.of(
              images.resolve(
                  container ? "the node's container initramfs" : "spec.initrd",
                  plan.initrd().get()));
    }
    // One manifest digest for the launch: the config (entrypoint, env, user) and the root disk
    // are pulled by it, so a tag moved between the two pulls cannot pair two images.
    Optional<ImageRef.Oci> containerRootfs = Optional.empty();
    if (container) {
      ContainerPlan c = plan.container().get();
      ImageReference pinned = images.pin(CONTAINER_IMAGE, c.config());
      ImageRef.OciConfig config = new ImageRef.OciConfig(pinned, c.config().pullSecrets());
      containerRootfs =
          Optional.of(new ImageRef.Oci(pinned, Optional.empty(), c.config().pullSecrets()));
      initrd =
          Optional.of(
              containerInitrd(
                  c,
                  config,
                  images,
                  initrd.orElseThrow(),
                  diskDir.resolveSibling(CONTAINER_INITRD)));
    }
    List<Path> sources = new ArrayList<>();
    long writable = 0;
    for (VmPlan.DiskPlan d : plan.disks()) {
      ImageRef source = d.source();
      if (containerRootfs.isPresent() && source.equals(plan.container().get().rootfs())) {
        source = containerRootfs.get();
      }
      Path image = images.resolve(plan.fieldOf(d) + ".source", source);
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
    return new LaunchImages(kernel, initrd, disks, containerRootfs.map(ImageRef.Oci::reference));
  }

  private static final String CONTAINER_IMAGE = "spec.container.image";

  /** The container VM's initrd, beside its disks: the node's initramfs and the VM's config. */
  public static final String CONTAINER_INITRD = "container-initrd";

  /**
   * Pulls the image's config, merges it with the spec ({@link ContainerProcess#merge}) and writes
   * the node's initramfs with the result appended to {@code target}, made afresh on every start (a
   * moved tag may bring new defaults).
   */
  private static Path containerInitrd(
      ContainerPlan plan, ImageRef.OciConfig pinned, PlanImages images, Path initramfs, Path target)
      throws ImageException {
    Path config = images.resolve(CONTAINER_IMAGE, pinned);
    try {
      ContainerProcess process =
          ContainerProcess.merge(ImageConfig.parse(Files.readAllBytes(config)), plan.overrides());
      ContainerInitrd.write(initramfs, process, X86Layout.GUEST_EXIT_PORT, target);
      return target;
    } catch (java.io.IOException e) {
      throw new ImageException.FetchFailed("cannot read the image config " + config, e);
    } catch (ContainerException e) {
      throw new ImageException(
          HearthApi.Reasons.IMAGE_UNSUPPORTED,
          "spec.container: " + pinned.reference() + ": " + e.getMessage(),
          e);
    }
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
