package dev.hearth.agent.run;

import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What {@code hearth run} must do for one manifest, before any KVM call: the images to resolve and
 * the VM's shape, or the first reason it cannot run in this build.
 *
 * @param name the VM's name (metadata.name)
 * @param vcpus vCPUs
 * @param memoryMiB guest RAM
 * @param kernel where the kernel comes from
 * @param initrd where the initrd comes from, if any
 * @param cmdline the user's extra kernel arguments
 */
public record LocalVmPlan(
    String name,
    int vcpus,
    long memoryMiB,
    dev.hearth.agent.image.ImageSource kernel,
    Optional<dev.hearth.agent.image.ImageSource> initrd,
    String cmdline) {

  /**
   * The plan for {@code vm}, a manifest that already passed the CRD schema.
   *
   * @throws ManifestException naming the field this build cannot run yet
   */
  public static LocalVmPlan of(MicroVM vm) throws ManifestException {
    MicroVMSpec spec = vm.getSpec();
    List<String> unsupported = new ArrayList<>();
    if (spec.getRootfs() != null) {
      unsupported.add("spec.rootfs");
    }
    if (spec.getDrives() != null && !spec.getDrives().isEmpty()) {
      unsupported.add("spec.drives");
    }
    if (spec.getNetwork() != null && !spec.getNetwork().isEmpty()) {
      unsupported.add("spec.network");
    }
    if (spec.getVsock() != null) {
      unsupported.add("spec.vsock");
    }
    if (!unsupported.isEmpty()) {
      throw new ManifestException(
          unsupported.getFirst()
              + ": hearth run cannot attach virtio devices in this build yet;"
              + " remove "
              + String.join(", ", unsupported)
              + " to boot the kernel alone");
    }
    String name = vm.getMetadata() == null ? null : vm.getMetadata().getName();
    if (name == null || name.isBlank()) {
      throw new ManifestException("metadata.name: is required");
    }
    return new LocalVmPlan(
        name,
        spec.getVcpus(),
        spec.getMemoryMiB(),
        source("spec.kernel.source", spec.getKernel().getSource()),
        spec.getInitrd() == null
            ? Optional.empty()
            : Optional.of(source("spec.initrd", spec.getInitrd())),
        spec.getKernel().getCmdline() == null ? "" : spec.getKernel().getCmdline());
  }

  /** The agent's image source for a manifest's; CEL would reject both or neither in a cluster. */
  private static dev.hearth.agent.image.ImageSource source(String field, ImageSource s)
      throws ManifestException {
    boolean hasPath = s.getPath() != null;
    boolean hasUrl = s.getUrl() != null;
    if (hasPath == hasUrl) {
      throw new ManifestException(field + ": exactly one of path or url must be set");
    }
    if (hasPath) {
      if (s.getSha256() != null) {
        throw new ManifestException(field + ".sha256: is only used with a url source");
      }
      return new dev.hearth.agent.image.ImageSource.NodeFile(
          Path.of(s.getPath()), Optional.empty());
    }
    if (s.getSha256() == null) {
      throw new ManifestException(field + ": a url source requires sha256");
    }
    try {
      return new dev.hearth.agent.image.ImageSource.Remote(URI.create(s.getUrl()), s.getSha256());
    } catch (IllegalArgumentException e) {
      throw new ManifestException(field + ".url: " + e.getMessage(), e);
    }
  }
}
