package dev.hearth.agent.spec;

import dev.hearth.agent.image.ImageRef;
import dev.hearth.agent.image.ImageReference;
import dev.hearth.agent.runtime.VmLaunch;
import dev.hearth.agent.runtime.VmRuntime;
import dev.hearth.api.v1alpha1.DriveSpec;
import dev.hearth.api.v1alpha1.ImageSource;
import dev.hearth.api.v1alpha1.KernelSpec;
import dev.hearth.api.v1alpha1.MicroVMLimits;
import dev.hearth.api.v1alpha1.MicroVMSpec;
import dev.hearth.api.v1alpha1.NetworkInterfaceSpec;
import dev.hearth.api.v1alpha1.OciImageSource;
import dev.hearth.api.v1alpha1.PullSecretReference;
import dev.hearth.api.v1alpha1.VsockSpec;
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
  private final ContainerBoot containerBoot;

  /** A mapper whose container VMs boot {@link ContainerBoot#DEFAULT}. */
  public SpecMapper(VmRuntime.Capabilities caps) {
    this(caps, ContainerBoot.DEFAULT);
  }

  /** A mapper whose {@code spec.container} VMs boot the node's {@code containerBoot}. */
  public SpecMapper(VmRuntime.Capabilities caps, ContainerBoot containerBoot) {
    this.caps = caps;
    this.containerBoot = containerBoot;
  }

  public VmPlan map(MicroVMSpec spec) throws SpecRejectedException {
    if (spec == null) {
      throw invalid("spec is missing");
    }
    int vcpus = spec.vcpusOrDefault();
    int memory = spec.memoryMiBOrDefault();
    if (vcpus < 1 || vcpus > MicroVMLimits.MAX_VCPUS) {
      throw invalid("spec.vcpus " + vcpus + " is outside 1.." + MicroVMLimits.MAX_VCPUS);
    }
    if (vcpus > caps.maxVcpus()) {
      throw unsupported(
          "spec.vcpus " + vcpus + " exceeds this node's VMM limit of " + caps.maxVcpus());
    }
    if (memory < MicroVMLimits.MIN_MEMORY_MIB) {
      throw invalid("spec.memoryMiB " + memory + " is below " + MicroVMLimits.MIN_MEMORY_MIB);
    }
    List<String> pullSecrets = pullSecrets(spec);
    Optional<ContainerPlan> container = ContainerPlan.of(spec, pullSecrets, caps.initrd());
    if (container.isEmpty() && (spec.getKernel() == null || spec.getKernel().getSource() == null)) {
      throw invalid("spec.kernel.source is required (or spec.container)");
    }
    var kernel =
        container.isPresent()
            ? containerBoot.kernelSource()
            : oneFile(
                image(spec.getKernel().getSource(), "spec.kernel.source", pullSecrets),
                "spec.kernel.source",
                "a kernel");
    Optional<ImageRef> initrd = container.map(c -> containerBoot.initramfsSource());
    if (spec.getInitrd() != null) {
      if (!caps.initrd()) {
        throw unsupported("spec.initrd: this node's VMM cannot load an initrd");
      }
      initrd =
          Optional.of(
              oneFile(
                  image(spec.getInitrd(), "spec.initrd", pullSecrets), "spec.initrd", "an initrd"));
    }
    Map<String, VmLaunch.RateLimit> diskLimits = new HashMap<>();
    Optional<VmPlan.DiskPlan> rootfs =
        container.map(
            c ->
                new VmPlan.DiskPlan(
                    MicroVMLimits.ROOTFS_NAME, c.rootfs(), false, Optional.empty()));
    if (spec.getRootfs() != null) {
      if (spec.getRootfs().getSource() == null) {
        throw invalid("spec.rootfs.source is required");
      }
      rootfs =
          Optional.of(
              new VmPlan.DiskPlan(
                  MicroVMLimits.ROOTFS_NAME,
                  image(spec.getRootfs().getSource(), "spec.rootfs.source", pullSecrets),
                  Boolean.TRUE.equals(spec.getRootfs().getReadOnly()),
                  Optional.empty()));
      RateLimits.of(spec.getRootfs().getRateLimiter(), "spec.rootfs.rateLimiter")
          .ifPresent(l -> diskLimits.put(MicroVMLimits.ROOTFS_NAME, l));
    }
    List<VmPlan.DiskPlan> drives = new ArrayList<>();
    // The VMM has one namespace for device ids: drives, interfaces, its rootfs and its rng.
    Set<String> names = new HashSet<>();
    // It attaches an image file once: read-only disks (used in place) must not share one.
    Map<String, String> readOnlyImages = new HashMap<>();
    if (rootfs.isPresent() && rootfs.get().readOnly()) {
      readOnlyImages.put(imageKey(spec.getRootfs().getSource()), "spec.rootfs");
    }
    List<DriveSpec> driveSpecs = spec.getDrives() == null ? List.of() : spec.getDrives();
    if (driveSpecs.size() + (rootfs.isPresent() ? 1 : 0) > caps.maxDrives()) {
      throw unsupported("this node's VMM attaches at most " + caps.maxDrives() + " disks");
    }
    for (int i = 0; i < driveSpecs.size(); i++) {
      DriveSpec d = driveSpecs.get(i);
      String field = "spec.drives[" + i + "]";
      drives.add(drive(d, field, names, readOnlyImages, pullSecrets));
      RateLimits.of(d.getRateLimiter(), field + ".rateLimiter")
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
    Set<String> macs = new HashSet<>();
    for (int i = 0; i < nicSpecs.size(); i++) {
      NetworkInterfaceSpec n = nicSpecs.get(i);
      String field = "spec.network[" + i + "]";
      deviceName(field + ".name", n.getName(), names);
      Optional<String> mac = Optional.ofNullable(n.getMacAddress()).map(String::toLowerCase);
      if (mac.isPresent()) {
        if (!mac.get().matches("[0-9a-f][02468ace](:[0-9a-f]{2}){5}")) {
          throw invalid(field + ".macAddress '" + n.getMacAddress() + "' is not a unicast MAC");
        }
        if (mac.get().equals("00:00:00:00:00:00")) {
          throw invalid(field + ".macAddress must not be all zeros");
        }
        if (!macs.add(mac.get())) {
          throw invalid(field + ".macAddress '" + n.getMacAddress() + "' is used twice");
        }
      }
      nics.add(new VmPlan.NicPlan(n.getName(), mac));
      RateLimits.of(n.getRxRateLimiter(), field + ".rxRateLimiter")
          .ifPresent(l -> rx.put(n.getName(), l));
      RateLimits.of(n.getTxRateLimiter(), field + ".txRateLimiter")
          .ifPresent(l -> tx.put(n.getName(), l));
    }
    OptionalLong vsock = OptionalLong.empty();
    if (spec.getVsock() != null) {
      if (!caps.vsock()) {
        throw unsupported("spec.vsock: this node's VMM has no vsock device");
      }
      Long cid = spec.getVsock().getCid();
      if (cid == null || cid < VsockSpec.MIN_CID || cid > VsockSpec.MAX_CID) {
        throw invalid(
            "spec.vsock.cid "
                + cid
                + " is outside "
                + VsockSpec.MIN_CID
                + ".."
                + VsockSpec.MAX_CID);
      }
      vsock = OptionalLong.of(cid);
    }
    String cmdline = Optional.ofNullable(spec.getKernel()).map(KernelSpec::getCmdline).orElse("");
    if (cmdline.length() > KernelSpec.MAX_CMDLINE) {
      throw invalid("spec.kernel.cmdline is longer than " + KernelSpec.MAX_CMDLINE + " characters");
    }
    if (!cmdline.matches(KernelSpec.CMDLINE)) {
      throw invalid(
          "spec.kernel.cmdline may hold only printable ASCII characters: no tabs, newlines or"
              + " other control characters, nothing outside ASCII");
    }
    cmdline = cmdline.strip();
    return new VmPlan(
        vcpus,
        memory,
        kernel,
        initrd,
        cmdline,
        rootfs,
        drives,
        nics,
        NetworkPolicies.map(spec.getNetworkPolicy()),
        vsock,
        new VmLaunch.Limits(diskLimits, rx, tx),
        container);
  }

  /**
   * One drive's plan. Its name joins {@code names}; when read-only, its image joins {@code
   * readOnlyImages} (image to the field that uses it).
   */
  private static VmPlan.DiskPlan drive(
      DriveSpec d,
      String field,
      Set<String> names,
      Map<String, String> readOnlyImages,
      List<String> pullSecrets)
      throws SpecRejectedException {
    deviceName(field + ".name", d.getName(), names);
    if (d.getSource() == null) {
      throw invalid(field + ".source is required");
    }
    var source = image(d.getSource(), field + ".source", pullSecrets);
    String serial = d.getSerial();
    if (serial != null
        && (serial.length() > DriveSpec.MAX_SERIAL || !serial.matches(DriveSpec.SERIAL))) {
      throw invalid(
          field
              + ".serial '"
              + serial
              + "' must be at most "
              + DriveSpec.MAX_SERIAL
              + " letters, digits, '.', '_' or '-'");
    }
    boolean readOnly = Boolean.TRUE.equals(d.getReadOnly());
    if (readOnly) {
      String other = readOnlyImages.putIfAbsent(imageKey(d.getSource()), field);
      if (other != null) {
        throw invalid(
            field
                + ".source: read-only "
                + other
                + " uses the same image, which the VMM attaches once (make one writable, which"
                + " gives it a copy of its own)");
      }
    }
    return new VmPlan.DiskPlan(d.getName(), source, readOnly, Optional.ofNullable(serial));
  }

  /**
   * Checks a drive's or interface's name: a DNS label the VMM takes as a device id, not one of the
   * VMM's own, and not another device's.
   */
  private static void deviceName(String field, String name, Set<String> taken)
      throws SpecRejectedException {
    if (name == null
        || name.length() > MicroVMLimits.MAX_DEVICE_NAME
        || !name.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?")) {
      throw invalid(
          field
              + " '"
              + name
              + "' is not a DNS label of at most "
              + MicroVMLimits.MAX_DEVICE_NAME
              + " characters");
    }
    if (name.equals(MicroVMLimits.ROOTFS_NAME) || name.equals(MicroVMLimits.RNG_NAME)) {
      throw invalid(
          field
              + " '"
              + name
              + "' is reserved: the VMM names the root disk and the entropy device"
              + " so");
    }
    if (!taken.add(name)) {
      throw invalid(field + " '" + name + "' is already another drive's or interface's name");
    }
  }

  /**
   * What makes two sources one file on the node: one path, one cached download, or one image (and
   * file in it).
   */
  private static String imageKey(ImageSource s) {
    if (s.getOci() != null) {
      return "oci:" + s.getOci().getImage() + "!" + s.getOci().getPath();
    }
    return s.getPath() != null ? "path:" + s.getPath() : "sha256:" + s.getSha256();
  }

  /** The pull Secrets' names, checked as Secret names (DNS subdomains), each once. */
  private static List<String> pullSecrets(MicroVMSpec spec) throws SpecRejectedException {
    List<PullSecretReference> refs =
        spec.getImagePullSecrets() == null ? List.of() : spec.getImagePullSecrets();
    if (refs.size() > MicroVMLimits.MAX_PULL_SECRETS) {
      throw invalid(
          "spec.imagePullSecrets names more than " + MicroVMLimits.MAX_PULL_SECRETS + " Secrets");
    }
    List<String> names = new ArrayList<>();
    for (int i = 0; i < refs.size(); i++) {
      String name = refs.get(i) == null ? null : refs.get(i).getName();
      if (name == null
          || name.length() > 253
          || !name.matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*")) {
        throw invalid(
            "spec.imagePullSecrets["
                + i
                + "].name: an image pull secret's name must be a Secret name");
      }
      if (!names.contains(name)) {
        names.add(name);
      }
    }
    return names;
  }

  /** {@code source} when it is one file: an OCI image must then name a path inside it. */
  private static ImageRef oneFile(ImageRef source, String field, String what)
      throws SpecRejectedException {
    if (source instanceof ImageRef.Oci o && o.file().isEmpty()) {
      throw invalid(field + ".oci needs a path: " + what + " is one file inside the image");
    }
    return source;
  }

  private static ImageRef image(ImageSource s, String field, List<String> pullSecrets)
      throws SpecRejectedException {
    boolean hasPath = s.getPath() != null;
    boolean hasUrl = s.getUrl() != null;
    boolean hasOci = s.getOci() != null;
    if ((hasPath ? 1 : 0) + (hasUrl ? 1 : 0) + (hasOci ? 1 : 0) != 1) {
      throw invalid(field + ": exactly one of path, url or oci must be set");
    }
    if (hasOci) {
      if (s.getSha256() != null) {
        throw invalid(field + ".sha256 is only used with a url source");
      }
      OciImageSource oci = s.getOci();
      if (oci.getImage() == null) {
        throw invalid(field + ".oci.image is required");
      }
      ImageReference ref;
      try {
        ref = ImageReference.parse(oci.getImage());
      } catch (IllegalArgumentException e) {
        throw invalid(field + ".oci.image: " + e.getMessage());
      }
      try {
        return new ImageRef.Oci(ref, Optional.ofNullable(oci.getPath()), pullSecrets);
      } catch (IllegalArgumentException e) {
        throw invalid(field + ".oci.path: " + e.getMessage());
      }
    }
    if (hasPath) {
      if (s.getSha256() != null) {
        throw invalid(field + ".sha256 is only used with a url source");
      }
      try {
        return new ImageRef.NodeFile(s.getPath(), Optional.empty());
      } catch (IllegalArgumentException e) {
        throw invalid(field + ".path: " + e.getMessage());
      }
    }
    try {
      if (s.getSha256() == null) {
        throw invalid(field + ": a url source requires sha256");
      }
      return new ImageRef.Remote(URI.create(s.getUrl()), s.getSha256());
    } catch (IllegalArgumentException e) {
      throw invalid(field + ": " + e.getMessage());
    }
  }

  private static SpecRejectedException invalid(String message) {
    return new SpecRejectedException(SpecRejectedException.INVALID, message);
  }

  private static SpecRejectedException unsupported(String message) {
    return new SpecRejectedException(SpecRejectedException.UNSUPPORTED, message);
  }
}
