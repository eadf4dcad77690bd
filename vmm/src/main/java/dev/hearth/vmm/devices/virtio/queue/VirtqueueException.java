package dev.hearth.vmm.devices.virtio.queue;

/**
 * The guest broke the virtqueue contract. Devices catch these; they never leave the event loop. A
 * guest can raise them at will, so they carry no stack trace: filling one in would make each bad
 * chain cost far more than a good one.
 */
public abstract sealed class VirtqueueException extends Exception
    permits InvalidChainException, QueueBrokenException {
  VirtqueueException(String message, Throwable cause) {
    super(message, cause, false, false);
  }
}
