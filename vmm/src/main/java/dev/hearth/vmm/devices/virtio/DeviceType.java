package dev.hearth.vmm.devices.virtio;

/** Virtio device IDs (virtio 1.x, section 5). */
public final class DeviceType {
  public static final int NET = 1;
  public static final int BLOCK = 2;
  public static final int RNG = 4;
  public static final int VSOCK = 19;

  private DeviceType() {}
}
