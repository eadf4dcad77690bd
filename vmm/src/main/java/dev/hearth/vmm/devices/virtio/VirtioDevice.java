package dev.hearth.vmm.devices.virtio;

/**
 * A virtio device model, independent of its transport and of how events reach it. The transport
 * calls it holding the device's own monitor ({@code synchronized (device)}), from vCPU threads
 * (registers) and the event loop (notifications). Work a device receives from elsewhere (a refill
 * timer, a backend becoming readable) must synchronise on the device too.
 */
public interface VirtioDevice {

  /** The virtio device ID ({@link DeviceType}). */
  int deviceType();

  /**
   * Device-specific feature bits offered. The transport adds VERSION_1, INDIRECT_DESC and EVENT_IDX
   * itself.
   */
  long deviceFeatures();

  /** The maximum size of each queue; the array's length is the number of queues. */
  int[] queueMaxSizes();

  /** Bytes of device configuration space. */
  int configSize();

  /**
   * Reads configuration space at {@code offset}; the transport has checked that {@code [offset,
   * offset + data.length)} is within {@link #configSize()}.
   */
  void readConfig(int offset, byte[] data);

  /** Writes configuration space; most devices ignore it. Range checked as for reads. */
  void writeConfig(int offset, byte[] data);

  /**
   * The driver set DRIVER_OK: start serving. The device keeps {@code context} until {@link
   * #reset()}. A device that cannot start calls {@link DeviceContext#markBroken}.
   */
  void activate(DeviceContext context);

  /** The driver notified queue {@code index} (through ioeventfd or a QueueNotify write). */
  void queueNotified(int index);

  /** The driver reset the device: stop all I/O, drop the context, release per-activation state. */
  void reset();
}
