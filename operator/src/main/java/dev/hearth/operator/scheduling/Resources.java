package dev.hearth.operator.scheduling;

/**
 * An amount of vCPUs and memory, and how many VMs hold it ({@code vms}: one for a VM's footprint,
 * the sum on a node), which is what a per-VM cost or a cap on the number of VMs is counted by.
 */
public record Resources(long vcpus, long memoryMiB, long vms) {
  public static final Resources ZERO = new Resources(0, 0, 0);

  /** vCPUs and memory held by no VM in particular (a node's room). */
  public Resources(long vcpus, long memoryMiB) {
    this(vcpus, memoryMiB, 0);
  }

  public Resources plus(Resources o) {
    return new Resources(vcpus + o.vcpus, memoryMiB + o.memoryMiB, vms + o.vms);
  }

  public Resources minus(Resources o) {
    return new Resources(vcpus - o.vcpus, memoryMiB - o.memoryMiB, vms - o.vms);
  }

  /** The same with {@code perVm} MiB more memory for each VM (negative: less). */
  public Resources withOverheadPerVm(long perVm) {
    return perVm == 0 ? this : new Resources(vcpus, memoryMiB + vms * perVm, vms);
  }

  @Override
  public String toString() {
    return vcpus + " vCPUs/" + memoryMiB + " MiB" + (vms == 0 ? "" : "/" + vms + " VMs");
  }
}
