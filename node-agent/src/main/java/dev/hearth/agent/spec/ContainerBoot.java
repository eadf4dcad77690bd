package dev.hearth.agent.spec;

import dev.hearth.agent.image.ImageRef;
import java.util.Optional;

/**
 * The node's kernel and initramfs for {@code spec.container} VMs, Hearth's own (the test guest's
 * minimal kernel and the initramfs with Hearth's init): files under the node's images root, set by
 * the node's administrator (the agent's {@code --container-kernel} and {@code
 * --container-initramfs}; {@code hearth run}'s options of the same names), never by a spec.
 *
 * @param kernel the kernel's path under the images root
 * @param initramfs the initramfs's path under the images root
 */
public record ContainerBoot(String kernel, String initramfs) {
  /**
   * Where an agent looks by default: {@code hearth/vmlinux} and {@code hearth/initramfs.cpio.gz}.
   */
  public static final ContainerBoot DEFAULT =
      new ContainerBoot("hearth/vmlinux", "hearth/initramfs.cpio.gz");

  public ContainerBoot {
    // Checked as a spec's path is: relative, confined to the images root.
    new ImageRef.NodeFile(kernel, Optional.empty());
    new ImageRef.NodeFile(initramfs, Optional.empty());
  }

  /** The kernel as an image source. */
  public ImageRef kernelSource() {
    return new ImageRef.NodeFile(kernel, Optional.empty());
  }

  /** The initramfs as an image source. */
  public ImageRef initramfsSource() {
    return new ImageRef.NodeFile(initramfs, Optional.empty());
  }
}
