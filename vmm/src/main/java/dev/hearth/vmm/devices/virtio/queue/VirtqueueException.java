package dev.hearth.vmm.devices.virtio.queue;

/** The guest broke the virtqueue contract. Devices catch these; they never leave the event loop. */
public abstract sealed class VirtqueueException extends Exception
    permits InvalidChainException, QueueBrokenException {
  VirtqueueException(String message, Throwable cause) {
    super(message, cause);
  }
}
