package dev.hearth.vmm.devices.virtio;

import dev.hearth.vmm.devices.DeviceLog;
import dev.hearth.vmm.devices.virtio.queue.Virtqueue;
import dev.hearth.vmm.memory.GuestMemory;

/**
 * What a transport gives an activated device: guest memory, its activated queues, the negotiated
 * features and the ways to signal the driver. All methods are called on the device's event-loop
 * thread (or a test's).
 */
public interface DeviceContext {

  GuestMemory memory();

  /** Queue {@code index}, activated with the negotiated ring features. */
  Virtqueue queue(int index);

  /** The features the driver acknowledged. */
  long features();

  default boolean hasFeature(int bit) {
    return VirtioFeatures.has(features(), bit);
  }

  /**
   * Raises the used-buffer interrupt for {@code queue} if the driver wants one now (EVENT_IDX or
   * NO_INTERRUPT); a device calls it after adding used chains.
   */
  void signalUsed(int queue);

  /** Bumps the config generation and raises the configuration-change interrupt. */
  void signalConfigChange();

  /**
   * The device cannot go on (a broken ring, an unrecoverable backend error): sets
   * DEVICE_NEEDS_RESET, tells the driver, and stops delivering notifications until reset.
   */
  void markBroken(String reason);

  /** Whether {@link #markBroken} was called since activation. */
  boolean broken();

  /** Where the device logs what the guest can make happen: the VM's rate-limited device log. */
  DeviceLog log();
}
