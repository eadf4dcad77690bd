package dev.hearth.vmm.devices.virtio.mmio;

import dev.hearth.vmm.devices.virtio.DeviceStatus;
import dev.hearth.vmm.devices.virtio.VirtioFeatures;

/**
 * The driver's side of a virtio-mmio device's initialisation (virtio 1.x, section 3.1): the
 * device-status state machine and the feature words. A status bit may only be added in order
 * (ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK); FEATURES_OK is refused for features not offered or
 * without VIRTIO_F_VERSION_1; 0 resets. Not thread-safe: {@link MmioTransport} holds its lock.
 */
final class DriverNegotiation {
  /** The status while the driver may write its features. */
  private static final int NEGOTIATING = DeviceStatus.ACKNOWLEDGE | DeviceStatus.DRIVER;

  /** The status while the driver sets up the queues. */
  private static final int CONFIGURING = NEGOTIATING | DeviceStatus.FEATURES_OK;

  /** What a status write asks the transport to do. */
  enum Outcome {
    /** Nothing beyond the status change (if any). */
    NONE,
    /** Out of order: the status is unchanged and the write is logged. */
    IGNORED,
    /** 0 was written: reset the device and every register. */
    RESET,
    /** DRIVER_OK was reached: activate the device. */
    ACTIVATE
  }

  private final long offered;
  private int deviceFeaturesSel;
  private int driverFeaturesSel;
  private long driverFeatures;
  private int status;

  DriverNegotiation(long offered) {
    this.offered = offered;
  }

  /** The features the device offers, ring features included. */
  long offered() {
    return offered;
  }

  /** The 32 offered feature bits that DeviceFeaturesSel selects (0 past the second word). */
  int deviceFeaturesWord() {
    return switch (deviceFeaturesSel) {
      case 0 -> (int) offered;
      case 1 -> (int) (offered >>> 32);
      default -> 0;
    };
  }

  void selectDeviceFeatures(int sel) {
    deviceFeaturesSel = sel;
  }

  void selectDriverFeatures(int sel) {
    driverFeaturesSel = sel;
  }

  /** Sets the selected word of the driver's features; only between DRIVER and FEATURES_OK. */
  void writeDriverFeatures(int v) {
    if (status != NEGOTIATING) {
      return;
    }
    if (driverFeaturesSel == 0) {
      driverFeatures = MmioRegisters.low(driverFeatures, v);
    } else if (driverFeaturesSel == 1) {
      driverFeatures = MmioRegisters.high(driverFeatures, v);
    }
  }

  /** The features the driver accepted. */
  long driverFeatures() {
    return driverFeatures;
  }

  int status() {
    return status;
  }

  /** The driver gave up on the device. */
  boolean failed() {
    return (status & DeviceStatus.FAILED) != 0;
  }

  /** Queues may be configured: after FEATURES_OK and before DRIVER_OK. */
  boolean configuringQueues() {
    return status == CONFIGURING;
  }

  /** The device found itself unusable until the driver resets it. */
  void markNeedsReset() {
    status |= DeviceStatus.DEVICE_NEEDS_RESET;
  }

  /** A Status register write. */
  Outcome writeStatus(int v) {
    if (v == 0) {
      return Outcome.RESET;
    }
    if ((v & DeviceStatus.FAILED) != 0) {
      status |= DeviceStatus.FAILED;
      return Outcome.NONE;
    }
    int added = v & ~status;
    if ((v & status) != status || Integer.bitCount(added) != 1) {
      return Outcome.IGNORED;
    }
    switch (added) {
      case DeviceStatus.ACKNOWLEDGE -> status = v;
      case DeviceStatus.DRIVER -> {
        if (status == DeviceStatus.ACKNOWLEDGE) {
          status = v;
        }
      }
      case DeviceStatus.FEATURES_OK -> {
        boolean subset = (driverFeatures & ~offered) == 0;
        boolean modern = VirtioFeatures.has(driverFeatures, VirtioFeatures.VERSION_1);
        if (status == NEGOTIATING && subset && modern) {
          status = v;
        }
      }
      case DeviceStatus.DRIVER_OK -> {
        if (status == CONFIGURING) {
          status = v;
          return Outcome.ACTIVATE;
        }
      }
      default -> {}
    }
    return Outcome.NONE;
  }

  /** Back to the state after a reset: no status, no features, both selectors 0. */
  void reset() {
    status = 0;
    driverFeatures = 0;
    deviceFeaturesSel = 0;
    driverFeaturesSel = 0;
  }

  int deviceFeaturesSel() {
    return deviceFeaturesSel;
  }

  int driverFeaturesSel() {
    return driverFeaturesSel;
  }

  /** Takes back a snapshot's negotiation; the caller has checked the features were offered. */
  void restore(int deviceFeaturesSel, int driverFeaturesSel, long driverFeatures, int status) {
    this.deviceFeaturesSel = deviceFeaturesSel;
    this.driverFeaturesSel = driverFeaturesSel;
    this.driverFeatures = driverFeatures;
    this.status = status;
  }
}
