package dev.hearth.api.v1alpha1;

/**
 * The bounds a MicroVM's spec is validated against, shared by the CRD's schema and CEL rules and by
 * the agent's mapping to the VMM (each mirrors a VMM limit, checked by the agent's tests).
 */
public final class MicroVMLimits {
  /** The most vCPUs a VM may have (the VMM's VmConfig.MAX_VCPUS). */
  public static final int MAX_VCPUS = 32;

  /** The least memory a VM may have, in MiB (the VMM takes less). */
  public static final int MIN_MEMORY_MIB = 16;

  /** The most memory a VM may have, in MiB (256 GiB; the VMM takes more). */
  public static final int MAX_MEMORY_MIB = 262144;

  /** Disks the agent's VMM attaches, the rootfs included (the agent's VmmRuntime uses it). */
  public static final int MAX_DISKS = 8;

  /** The most image pull Secrets a MicroVM names. */
  public static final int MAX_PULL_SECRETS = 16;

  /** Network interfaces the agent's VMM attaches (the agent's VmmRuntime uses it). */
  public static final int MAX_NICS = 8;

  /** The longest device name: the VMM's device ids are 1 to 63 characters. */
  public static final int MAX_DEVICE_NAME = 63;

  /** The VMM's name for the root disk: no drive or network interface may take it. */
  public static final String ROOTFS_NAME = "rootfs";

  /** The VMM's name for the entropy device (its RngConfig.ID): no drive or interface takes it. */
  public static final String RNG_NAME = "rng";

  private MicroVMLimits() {}
}
