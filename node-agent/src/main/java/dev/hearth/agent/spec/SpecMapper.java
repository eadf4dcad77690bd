package dev.hearth.agent.spec;

import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.api.v1alpha1.DriveSpec;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.NetworkInterfaceSpec;
import dev.hearth.api.v1alpha1.RateLimiter;
import dev.hearth.api.v1alpha1.TokenBucket;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Checks a MicroVM spec and maps it to a {@link VmPlan}, for the node agent and {@code hearth run}
 * alike. It re-checks what the CRD schema and CEL rules enforce (an API server without them, or a
 * manifest that skipped them, must not reach the VMM), and refuses what the runtime cannot do, each
 * with a message that names the field.
 */
public final class SpecMapper {
  private final VmRuntime.Capabilities caps;

  public SpecMapper(VmRuntime.Capabilities caps) {
    this.caps = caps;
  }

  public VmPlan map(MicroVMSpec spec) throws SpecRejectedException {
    if (spec == null) {
      throw invalid("spec is missing");
    }
    int vcpus = spec.vcpusOrDefault();
    int memory = spec.memoryMiBOrDefault();
    if (vcpus < 1 || vcpus > 32) {
      throw invalid("spec.vcpus " + vcpus + " is outside 1..32");
    }
    if (vcpus > caps.maxVcpus()) {
      throw unsupported(
          "spec.vcpus " + vcpus + " exceeds this node's VMM limit of " + caps.maxVcpus());
    }
    if (memory < 16) {
      throw invalid("spec.memoryMiB " + memory + " is below 16");
    }
    if (spec.getKernel() == null || spec.getKernel().getSource() == null) {
      throw invalid("spec.kernel.source is required");
    }
    var kernel = image(spec.getKernel().getSource(), "spec.kernel.source");
    Optional<dev.hearth.agent.image.ImageSource> initrd = Optional.empty();
    if (spec.getInitrd() != null) {
      if (!caps.initrd()) {
        throw unsupported("spec.initrd: this node's VMM cannot load an initrd");
      }
      initrd = Optional.of(image(spec.getInitrd(), "spec.initrd"));
    }
    Map<String, VmLaunch.RateLimit> diskLimits = new HashMap<>();
    Optional<VmPlan.DiskPlan> rootfs = Optional.empty();
    if (spec.getRootfs() != null) {
      if (spec.getRootfs().getSource() == null) {
        throw invalid("spec.rootfs.source is required");
      }
      rootfs =
          Optional.of(
              new VmPlan.DiskPlan(
                  "rootfs",
                  image(spec.getRootfs().getSource(), "spec.rootfs.source"),
                  Boolean.TRUE.equals(spec.getRootfs().getReadOnly()),
                  Optional.empty()));
      limit(spec.getRootfs().getRateLimiter(), "spec.rootfs.rateLimiter")
          .ifPresent(l -> diskLimits.put("rootfs", l));
    }
    List<VmPlan.DiskPlan> drives = new ArrayList<>();
    Set<String> names = new HashSet<>(Set.of("rootfs"));
    List<DriveSpec> driveSpecs = spec.getDrives() == null ? List.of() : spec.getDrives();
    if (driveSpecs.size() + (rootfs.isPresent() ? 1 : 0) > caps.maxDrives()) {
      throw unsupported("this node's VMM attaches at most " + caps.maxDrives() + " disks");
    }
    for (int i = 0; i < driveSpecs.size(); i++) {
      DriveSpec d = driveSpecs.get(i);
      String field = "spec.drives[" + i + "]";
      if (d.getName() == null || !d.getName().matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?")) {
        throw invalid(field + ".name '" + d.getName() + "' is not a DNS label");
      }
      if (!names.add(d.getName())) {
        throw invalid(field + ".name '" + d.getName() + "' is reserved or used twice");
      }
      if (d.getSource() == null) {
        throw invalid(field + ".source is required");
      }
      drives.add(
          new VmPlan.DiskPlan(
              d.getName(),
              image(d.getSource(), field + ".source"),
              Boolean.TRUE.equals(d.getReadOnly()),
              Optional.ofNullable(d.getSerial())));
      limit(d.getRateLimiter(), field + ".rateLimiter")
          .ifPresent(l -> diskLimits.put(d.getName(), l));
    }
    List<NetworkInterfaceSpec> nicSpecs = spec.getNetwork() == null ? List.of() : spec.getNetwork();
    if (nicSpecs.size() > caps.maxNics()) {
      throw unsupported(
          "this node's VMM attaches at most " + caps.maxNics() + " network interfaces");
    }
    List<VmPlan.NicPlan> nics = new ArrayList<>();
    Map<String, VmLaunch.RateLimit> rx = new HashMap<>();
    Map<String, VmLaunch.RateLimit> tx = new HashMap<>();
    Set<String> nicNames = new HashSet<>();
    Set<String> macs = new HashSet<>();
    for (int i = 0; i < nicSpecs.size(); i++) {
      NetworkInterfaceSpec n = nicSpecs.get(i);
      String field = "spec.network[" + i + "]";
      if (n.getName() == null || !n.getName().matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?")) {
        throw invalid(field + ".name '" + n.getName() + "' is not a DNS label");
      }
      if (!nicNames.add(n.getName())) {
        throw invalid(field + ".name '" + n.getName() + "' is used twice");
      }
      Optional<String> mac = Optional.ofNullable(n.getMacAddress()).map(String::toLowerCase);
      if (mac.isPresent()) {
        if (!mac.get().matches("[0-9a-f][02468ace](:[0-9a-f]{2}){5}")) {
          throw invalid(field + ".macAddress '" + n.getMacAddress() + "' is not a unicast MAC");
        }
        if (!macs.add(mac.get())) {
          throw invalid(field + ".macAddress '" + n.getMacAddress() + "' is used twice");
        }
      }
      nics.add(new VmPlan.NicPlan(n.getName(), mac));
      limit(n.getRxRateLimiter(), field + ".rxRateLimiter").ifPresent(l -> rx.put(n.getName(), l));
      limit(n.getTxRateLimiter(), field + ".txRateLimiter").ifPresent(l -> tx.put(n.getName(), l));
    }
    OptionalLong vsock = OptionalLong.empty();
    if (spec.getVsock() != null) {
      if (!caps.vsock()) {
        throw unsupported("spec.vsock: this node's VMM has no vsock device");
      }
      Long cid = spec.getVsock().getCid();
      if (cid == null || cid < 3 || cid > 4294967294L) {
        throw invalid("spec.vsock.cid " + cid + " is outside 3..4294967294");
      }
      vsock = OptionalLong.of(cid);
    }
    String cmdline =
        spec.getKernel().getCmdline() == null ? "" : spec.getKernel().getCmdline().strip();
    if (cmdline.length() > 2048) {
      throw invalid("spec.kernel.cmdline is longer than 2048 characters");
    }
    return new VmPlan(
        vcpus,
        memory,
        kernel,
        initrd,
        cmdline,
        rootfs,
        drives,
        nics,
        vsock,
        new VmLaunch.Limits(diskLimits, rx, tx));
  }

  private static dev.hearth.agent.image.ImageSource image(ImageSource s, String field)
      throws SpecRejectedException {
    boolean hasPath = s.getPath() != null;
    boolean hasUrl = s.getUrl() != null;
    if (hasPath == hasUrl) {
      throw invalid(field + ": exactly one of path or url must be set");
    }
    if (hasPath) {
      if (s.getSha256() != null) {
        throw invalid(field + ".sha256 is only used with a url source");
      }
      try {
        return new dev.hearth.agent.image.ImageSource.NodeFile(s.getPath(), Optional.empty());
      } catch (IllegalArgumentException e) {
        throw invalid(field + ".path: " + e.getMessage());
      }
    }
    try {
      if (s.getSha256() == null) {
        throw invalid(field + ": a url source requires sha256");
      }
      return new dev.hearth.agent.image.ImageSource.Remote(URI.create(s.getUrl()), s.getSha256());
    } catch (IllegalArgumentException e) {
      throw invalid(field + ": " + e.getMessage());
    }
  }

  private static Optional<VmLaunch.RateLimit> limit(RateLimiter r, String field)
      throws SpecRejectedException {
    if (r == null) {
      return Optional.empty();
    }
    return Optional.of(
        new VmLaunch.RateLimit(
            bucket(r.getBandwidth(), field + ".bandwidth"), bucket(r.getOps(), field + ".ops")));
  }

  private static Optional<VmLaunch.Bucket> bucket(TokenBucket b, String field)
      throws SpecRejectedException {
    if (b == null) {
      return Optional.empty();
    }
    long size = b.getSize() == null ? 0 : b.getSize();
    long refill = b.getRefillTimeMs() == null ? 0 : b.getRefillTimeMs();
    long burst = b.getOneTimeBurst() == null ? 0 : b.getOneTimeBurst();
    if (size < 0 || refill < 0 || burst < 0) {
      throw invalid(field + ": size, refillTimeMs and oneTimeBurst must not be negative");
    }
    if ((size > 0) != (refill > 0)) {
      throw invalid(field + ": size and refillTimeMs must both be set (non-zero) or both be 0");
    }
    if (burst > 0 && size == 0) {
      throw invalid(field + ": oneTimeBurst requires a non-zero size");
    }
    return size == 0 ? Optional.empty() : Optional.of(new VmLaunch.Bucket(size, refill, burst));
  }

  private static SpecRejectedException invalid(String message) {
    return new SpecRejectedException(SpecRejectedException.INVALID, message);
  }

  private static SpecRejectedException unsupported(String message) {
    return new SpecRejectedException(SpecRejectedException.UNSUPPORTED, message);
  }
}
