package dev.hearth.operator.scheduling;

/** An amount of vCPUs and memory. */
public record Resources(long vcpus, long memoryMiB) {
  public static final Resources ZERO = new Resources(0, 0);

  public Resources plus(Resources o) {
    return new Resources(vcpus + o.vcpus, memoryMiB + o.memoryMiB);
  }

  public Resources minus(Resources o) {
    return new Resources(vcpus - o.vcpus, memoryMiB - o.memoryMiB);
  }

  @Override
  public String toString() {
    return vcpus + " vCPUs/" + memoryMiB + " MiB";
  }
}
