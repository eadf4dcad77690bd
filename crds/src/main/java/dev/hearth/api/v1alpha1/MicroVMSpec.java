package dev.hearth.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.crd.generator.annotation.SchemaFrom;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The desired microVM: its size, kernel, disks, network and placement. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonClassDescription(
    "The desired microVM: its size, kernel, disks, network interfaces and placement. Every device"
        + " (drive, network interface) is named, and the names are unique across both lists.")
@ValidationRule(
    value = "!has(self.drives) || self.drives.all(x, x" + DeviceRules.NOT_RESERVED + ")",
    message =
        "drive names '"
            + MicroVMLimits.ROOTFS_NAME
            + "' and '"
            + MicroVMLimits.RNG_NAME
            + "' are reserved: the VMM names the root disk and the entropy device so",
    fieldPath = ".drives")
@ValidationRule(
    value = "!has(self.readinessProbe) || (has(self.network) && size(self.network) > 0)",
    message =
        "readinessProbe needs a network interface: the agent connects to the address of the"
            + " VM's first one",
    fieldPath = ".readinessProbe")
@ValidationRule(
    value = "!has(self.network) || self.network.all(x, x" + DeviceRules.NOT_RESERVED + ")",
    message =
        "network interface names '"
            + MicroVMLimits.ROOTFS_NAME
            + "' and '"
            + MicroVMLimits.RNG_NAME
            + "' are reserved: the VMM names the root disk and the entropy device so",
    fieldPath = ".network")
@ValidationRule(
    value =
        "!has(self.drives) || !has(self.network)"
            + " || self.drives.all(d, self.network.all(n, n.name != d.name))",
    message =
        "a drive and a network interface must not share a name: the VMM names every device by it",
    fieldPath = ".network")
@ValidationRule(
    value =
        "(has(self.drives) ? size(self.drives) : 0)"
            + " + (has(self.rootfs) || has(self.container) ? 1 : 0) <= "
            + MicroVMLimits.MAX_DISKS,
    message =
        "too many disks: the VMM attaches at most "
            + MicroVMLimits.MAX_DISKS
            + " in all, spec.rootfs (or the container's image) included (so at most "
            + (MicroVMLimits.MAX_DISKS - 1)
            + " drives beside a rootfs)",
    fieldPath = ".drives")
@ValidationRule(
    value =
        "!has(self.drives) || self.drives.all(d, !(has(d.readOnly) && d.readOnly)"
            + " || self.drives.exists_one(e, has(e.readOnly) && e.readOnly && "
            + DeviceRules.SAME_IMAGE
            + "))",
    message =
        "two read-only drives use the same image: the VMM attaches an image file once (make one"
            + " writable, which gives it a copy of its own, or drop the duplicate)",
    fieldPath = ".drives")
@ValidationRule(
    value = DeviceRules.READ_ONLY_ROOTFS_NOT_SHARED,
    message =
        "a read-only drive uses the same image as the read-only rootfs: the VMM attaches an image"
            + " file once (make one writable, which gives it a copy of its own, or drop the"
            + " duplicate)",
    fieldPath = ".drives")
@ValidationRule(
    value =
        "!has(self.kernel) || !has(self.kernel.source) || !has(self.kernel.source.oci)"
            + " || has(self.kernel.source.oci.path)",
    message =
        "kernel.source.oci needs a path: a kernel is one file inside the image (e.g."
            + " boot/vmlinux)",
    fieldPath = ".kernel.source.oci")
@ValidationRule(
    value = "!has(self.initrd) || !has(self.initrd.oci) || has(self.initrd.oci.path)",
    message = "initrd.oci needs a path: an initrd is one file inside the image",
    fieldPath = ".initrd.oci")
@ValidationRule(
    value = "has(self.kernel) || has(self.container)",
    message =
        "spec.kernel is required, unless spec.container names an image (the node then boots its"
            + " own kernel)",
    fieldPath = ".kernel")
@ValidationRule(
    value = "!has(self.container) || (!has(self.kernel) && !has(self.initrd) && !has(self.rootfs))",
    message =
        "spec.container runs on the node's own kernel and init with the image as its root disk:"
            + " spec.kernel, spec.initrd and spec.rootfs must not be set with it",
    fieldPath = ".container")
public class MicroVMSpec extends ApiValue {
  @JsonPropertyDescription("Number of virtual CPUs, 1 to " + MicroVMLimits.MAX_VCPUS + ".")
  @Min(1)
  @Max(MicroVMLimits.MAX_VCPUS)
  @Default("1")
  private Integer vcpus = 1;

  @JsonPropertyDescription(
      "Guest memory in MiB, "
          + MicroVMLimits.MIN_MEMORY_MIB
          + " to "
          + MicroVMLimits.MAX_MEMORY_MIB
          + " (256 GiB).")
  @Min(MicroVMLimits.MIN_MEMORY_MIB)
  @Max(MicroVMLimits.MAX_MEMORY_MIB)
  @Default("128")
  private Integer memoryMiB = 128;

  @JsonPropertyDescription(
      "The guest kernel and its extra command-line arguments. Required, unless spec.container"
          + " is set (then it must not be).")
  private KernelSpec kernel;

  @JsonPropertyDescription(
      "An ordinary container image to run instead of a guest of one's own: the node boots"
          + " Hearth's kernel and init with the image as the root disk, and runs its entrypoint."
          + " Excludes spec.kernel, spec.initrd and spec.rootfs.")
  private ContainerSpec container;

  @JsonPropertyDescription("An initial ramdisk (initramfs) loaded next to the kernel.")
  private ImageSource initrd;

  @JsonPropertyDescription("The root disk, attached as the first virtio-blk device (/dev/vda).")
  private RootfsSpec rootfs;

  @JsonPropertyDescription(
      "Extra virtio-blk disks, attached after the rootfs in list order (/dev/vdb, /dev/vdc, ...)."
          + " Names are unique. At most 8 disks in all, the rootfs included.")
  @Size(max = MicroVMLimits.MAX_DISKS)
  @ValidationRule(
      value = "self.all(d, self.exists_one(e, e.name == d.name))",
      message = "drive names must be unique")
  private List<DriveSpec> drives = new ArrayList<>();

  @JsonPropertyDescription(
      "Network interfaces (virtio-net), each backed by a tap on the node's bridge. Names are"
          + " unique. At most 8.")
  @Size(max = MicroVMLimits.MAX_NICS)
  @ValidationRule(
      value = "self.all(n, self.exists_one(e, e.name == n.name))",
      message = "network interface names must be unique")
  @ValidationRule(
      value =
          "self.all(n, !has(n.macAddress) || self.exists_one(e, has(e.macAddress) && e.macAddress.lowerAscii() == n.macAddress.lowerAscii()))",
      message = "network interface MAC addresses must be unique")
  private List<NetworkInterfaceSpec> network = new ArrayList<>();

  @JsonPropertyDescription(
      "What the VM's network interfaces may reach beyond the default policy (the outside through"
          + " NAT, and same-namespace MicroVMs on the node). Applies to every interface.")
  private NetworkPolicySpec networkPolicy;

  @JsonPropertyDescription(
      "When the running VM is Ready, and so an endpoint of the Services whose selector matches"
          + " its labels: a TCP port of the guest that the node agent connects to. Without it,"
          + " the VM is Ready while its guest runs. Needs a network interface.")
  private ReadinessProbe readinessProbe;

  @JsonPropertyDescription("A virtio-vsock device for host-guest sockets.")
  private VsockSpec vsock;

  @JsonPropertyDescription(
      "Secrets in the MicroVM's namespace (type kubernetes.io/dockerconfigjson) whose registry"
          + " credentials the node agent uses to pull this VM's OCI images, as a Pod's"
          + " imagePullSecrets. The agent reads only the Secrets named here, and only for VMs bound"
          + " to its node. At most "
          + MicroVMLimits.MAX_PULL_SECRETS
          + ".")
  @Size(max = MicroVMLimits.MAX_PULL_SECRETS)
  private List<PullSecretReference> imagePullSecrets = new ArrayList<>();

  /** Pins the VM to this node, bypassing the scheduler's choice (as a Pod's nodeName does). */
  @JsonPropertyDescription(
      "Pins the VM to this node, as a Pod's nodeName does. The node must still be Ready and have"
          + " room. At most 63 characters, since it becomes the value of the hearth.dev/node"
          + " label. On a MicroVM it cannot change once set; a MicroVMSet template may change it"
          + " (VMs created afterwards use the new value).")
  @Size(min = 1, max = 63)
  @ValidationRule(
      value = "self.matches('^" + CelText.DNS_SUBDOMAIN + "$')",
      message =
          "nodeName must be a node name: lowercase letters, digits, '-' and '.', starting and"
              + " ending with a letter or digit")
  // No immutability rule here: this class is also a MicroVMSet's template. MicroVM carries it.
  private String nodeName;

  @JsonPropertyDescription(
      "Labels a node must carry (all of them, with these values) for the VM to be placed there.")
  @Size(max = 64)
  @ValidationRule(
      value = CelText.KEYS_ARE_QUALIFIED_NAMES,
      message = "nodeSelector keys must be label keys: " + CelText.QUALIFIED_NAME_WORDS)
  @ValidationRule(
      value = CelText.VALUES_ARE_LABEL_VALUES,
      message = "nodeSelector values must be label values: " + CelText.LABEL_VALUE_WORDS)
  private Map<String, @Size(max = 63) String> nodeSelector = new LinkedHashMap<>();

  @JsonPropertyDescription(
      "Node taints this VM tolerates, with the same meaning and checks as a Pod's tolerations."
          + " At most 64.")
  @SchemaFrom(type = TolerationSchema[].class)
  @Size(max = 64)
  private List<Toleration> tolerations = new ArrayList<>();

  @JsonPropertyDescription(
      "What happens when the guest exits: Always restarts, OnFailure restarts after a failure, Never leaves it stopped. VMs with Always or OnFailure are rescheduled when their node is lost.")
  @Default("Always")
  private RestartPolicy restartPolicy = RestartPolicy.Always;

  @JsonPropertyDescription(
      "Whether the guest runs: Running (the default), Paused (vCPUs stopped, memory kept on the"
          + " node) or Suspended (memory and device state written to a snapshot on the node and"
          + " the memory freed). Going back to Running resumes a paused guest, or restores a"
          + " suspended one on the same node, where it goes on without booting again. A VM"
          + " created Paused or Suspended boots first. status.runState and"
          + " status.runStateTransition report the state reached and how long the change took.")
  @Default("Running")
  private RunState runState = RunState.Running;

  public MicroVMSpec() {}

  public List<PullSecretReference> getImagePullSecrets() {
    return imagePullSecrets;
  }

  public void setImagePullSecrets(List<PullSecretReference> imagePullSecrets) {
    this.imagePullSecrets = imagePullSecrets;
  }

  public Integer getVcpus() {
    return vcpus;
  }

  public void setVcpus(Integer vcpus) {
    this.vcpus = vcpus;
  }

  public Integer getMemoryMiB() {
    return memoryMiB;
  }

  public void setMemoryMiB(Integer memoryMiB) {
    this.memoryMiB = memoryMiB;
  }

  public KernelSpec getKernel() {
    return kernel;
  }

  public void setKernel(KernelSpec kernel) {
    this.kernel = kernel;
  }

  public ContainerSpec getContainer() {
    return container;
  }

  public void setContainer(ContainerSpec container) {
    this.container = container;
  }

  public ImageSource getInitrd() {
    return initrd;
  }

  public void setInitrd(ImageSource initrd) {
    this.initrd = initrd;
  }

  public RootfsSpec getRootfs() {
    return rootfs;
  }

  public void setRootfs(RootfsSpec rootfs) {
    this.rootfs = rootfs;
  }

  public List<DriveSpec> getDrives() {
    return drives;
  }

  public void setDrives(List<DriveSpec> drives) {
    this.drives = drives;
  }

  public List<NetworkInterfaceSpec> getNetwork() {
    return network;
  }

  public void setNetwork(List<NetworkInterfaceSpec> network) {
    this.network = network;
  }

  public NetworkPolicySpec getNetworkPolicy() {
    return networkPolicy;
  }

  public void setNetworkPolicy(NetworkPolicySpec networkPolicy) {
    this.networkPolicy = networkPolicy;
  }

  public ReadinessProbe getReadinessProbe() {
    return readinessProbe;
  }

  public void setReadinessProbe(ReadinessProbe readinessProbe) {
    this.readinessProbe = readinessProbe;
  }

  public VsockSpec getVsock() {
    return vsock;
  }

  public void setVsock(VsockSpec vsock) {
    this.vsock = vsock;
  }

  public String getNodeName() {
    return nodeName;
  }

  public void setNodeName(String nodeName) {
    this.nodeName = nodeName;
  }

  public Map<String, String> getNodeSelector() {
    return nodeSelector;
  }

  public void setNodeSelector(Map<String, String> nodeSelector) {
    this.nodeSelector = nodeSelector;
  }

  public List<Toleration> getTolerations() {
    return tolerations;
  }

  public void setTolerations(List<Toleration> tolerations) {
    this.tolerations = tolerations;
  }

  public RestartPolicy getRestartPolicy() {
    return restartPolicy;
  }

  public void setRestartPolicy(RestartPolicy restartPolicy) {
    this.restartPolicy = restartPolicy;
  }

  public RunState getRunState() {
    return runState;
  }

  public void setRunState(RunState runState) {
    this.runState = runState;
  }

  /** Run state with the schema default applied. */
  public RunState runStateOrDefault() {
    return runState == null ? RunState.Running : runState;
  }

  /** vCPUs with the schema default applied (the API server defaults it; a test client may not). */
  public int vcpusOrDefault() {
    return vcpus == null ? 1 : vcpus;
  }

  /** Memory in MiB with the schema default applied. */
  public int memoryMiBOrDefault() {
    return memoryMiB == null ? 128 : memoryMiB;
  }

  /** Restart policy with the schema default applied. */
  public RestartPolicy restartPolicyOrDefault() {
    return restartPolicy == null ? RestartPolicy.Always : restartPolicy;
  }
}
