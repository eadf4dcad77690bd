package dev.hearth.vmm.devices.virtio.queue;

/**
 * The queue itself is unusable (its rings lie outside guest memory, the available index ran ahead
 * of the queue size, a head index is out of range). The device must stop using it and set
 * DEVICE_NEEDS_RESET.
 */
public final class QueueBrokenException extends VirtqueueException {
  QueueBrokenException(String message) {
    super(message, null);
  }

  QueueBrokenException(String message, Throwable cause) {
    super(message, cause);
  }
}
