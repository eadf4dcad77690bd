package dev.hearth.agent.run;

import dev.hearth.api.v1alpha1.DriveSpec;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVM;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.RateLimiter;
import dev.hearth.api.v1alpha1.RootfsSpec;
import dev.hearth.api.v1alpha1.TokenBucket;
import dev.hearth.vmm.ratelimit.RateLimitException;
import dev.hearth.vmm.ratelimit.RateLimiterConfig;
import dev.hearth.vmm.ratelimit.TokenBucketConfig;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What {@code hearth run} must do for one manifest, before any KVM call: the images to resolve and
 * the VM's shape with its disks and vsock, or the first reason it cannot run here (tap networking
 * needs the agent).
 *
 * @param name the VM's name (metadata.name)
 * @param vcpus vCPUs
 * @param memoryMiB guest RAM
 * @param kernel where the kernel comes from
 * @param initrd where the initrd comes from, if any
 * @param cmdline the user's extra kernel arguments
 * @param disks the rootfs (first, named {@code rootfs}) and the drives, in the order the guest sees
 *     them
 * @param vsockCid the guest CID of a vsock device, if the manifest asks for one
 */
public record LocalVmPlan(
    String name,
    int vcpus,
    long memoryMiB,
    dev.hearth.agent.image.ImageSource kernel,
    Optional<dev.hearth.agent.image.ImageSource> initrd,
    String cmdline,
    List<Disk> disks,
    OptionalLong vsockCid) {

  /**
   * A virtio-blk disk to attach.
   *
   * @param field where the manifest declares it ({@code spec.rootfs}, {@code spec.drives[1]})
   * @param name its device id ({@code rootfs} or the drive's name)
   * @param source where its image comes from
   * @param readOnly whether the guest may only read it; a writable disk gets a private copy
   * @param serial what GET_ID returns
   * @param rateLimit its I/O limits
   */
  public record Disk(
      String field,
      String name,
      dev.hearth.agent.image.ImageSource source,
      boolean readOnly,
      String serial,
      RateLimiterConfig rateLimit) {}

  public LocalVmPlan {
    disks = List.copyOf(disks);
  }

  /** A plan without devices. */
  public LocalVmPlan(
      String name,
      int vcpus,
      long memoryMiB,
      dev.hearth.agent.image.ImageSource kernel,
      Optional<dev.hearth.agent.image.ImageSource> initrd,
      String cmdline) {
    this(name, vcpus, memoryMiB, kernel, initrd, cmdline, List.of(), OptionalLong.empty());
  }

  /** Whether the first disk is the root file system (from {@code spec.rootfs}). */
  public boolean hasRootfs() {
    return !disks.isEmpty() && disks.getFirst().field().equals("spec.rootfs");
  }

  /**
   * The plan for {@code vm}, a manifest that already passed the CRD schema.
   *
   * @throws ManifestException naming the field this build cannot run yet
   */
  public static LocalVmPlan of(MicroVM vm) throws ManifestException {
    MicroVMSpec spec = vm.getSpec();
    if (spec.getNetwork() != null && !spec.getNetwork().isEmpty()) {
      throw new ManifestException(
          "spec.network: hearth run has no tap networking (that needs the node agent's bridge and"
              + " address pool); remove spec.network to run the VM here");
    }
    List<Disk> disks = new ArrayList<>();
    if (spec.getRootfs() != null) {
      RootfsSpec r = spec.getRootfs();
      disks.add(
          new Disk(
              "spec.rootfs",
              "rootfs",
              source("spec.rootfs.source", r.getSource()),
              Boolean.TRUE.equals(r.getReadOnly()),
              "",
              limiter("spec.rootfs.rateLimiter", r.getRateLimiter())));
    }
    List<DriveSpec> drives = spec.getDrives() == null ? List.of() : spec.getDrives();
    for (int i = 0; i < drives.size(); i++) {
      DriveSpec d = drives.get(i);
      String field = "spec.drives[" + i + "]";
      if (d.getName() == null || !d.getName().matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
        throw new ManifestException(field + ".name: '" + d.getName() + "' is not a DNS label");
      }
      if ("rootfs".equals(d.getName()) || "rng".equals(d.getName())) {
        throw new ManifestException(field + ".name: '" + d.getName() + "' is reserved");
      }
      disks.add(
          new Disk(
              field,
              d.getName(),
              source(field + ".source", d.getSource()),
              Boolean.TRUE.equals(d.getReadOnly()),
              d.getSerial() == null ? "" : d.getSerial(),
              limiter(field + ".rateLimiter", d.getRateLimiter())));
    }
    OptionalLong vsock = OptionalLong.empty();
    if (spec.getVsock() != null) {
      Long cid = spec.getVsock().getCid();
      if (cid == null || cid < 3 || cid > 0xffff_fffeL) {
        throw new ManifestException("spec.vsock.cid: " + cid + " is outside 3..4294967294");
      }
      vsock = OptionalLong.of(cid);
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
        spec.getKernel().getCmdline() == null ? "" : spec.getKernel().getCmdline(),
        disks,
        vsock);
  }

  /** A manifest's rate limiter as the VMM's; an absent one or bucket limits nothing. */
  static RateLimiterConfig limiter(String field, RateLimiter r) throws ManifestException {
    if (r == null) {
      return RateLimiterConfig.UNLIMITED;
    }
    return new RateLimiterConfig(
        bucket(field + ".bandwidth", r.getBandwidth()), bucket(field + ".ops", r.getOps()));
  }

  private static TokenBucketConfig bucket(String field, TokenBucket b) throws ManifestException {
    if (b == null) {
      return TokenBucketConfig.DISABLED;
    }
    try {
      return new TokenBucketConfig(
          b.getSize() == null ? 0 : b.getSize(),
          b.getOneTimeBurst() == null ? 0 : b.getOneTimeBurst(),
          b.getRefillTimeMs() == null ? 0 : b.getRefillTimeMs());
    } catch (RateLimitException e) {
      throw new ManifestException(field + ": " + e.getMessage(), e);
    }
  }

  /** The agent's image source for a manifest's; CEL would reject both or neither in a cluster. */
  private static dev.hearth.agent.image.ImageSource source(String field, ImageSource s)
      throws ManifestException {
    if (s == null) {
      throw new ManifestException(field + ": is required");
    }
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
