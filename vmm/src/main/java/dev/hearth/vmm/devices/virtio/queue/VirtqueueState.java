package dev.hearth.vmm.devices.virtio.queue;

/**
 * A {@link Virtqueue}'s configuration and the device's positions in its rings: what the guest's
 * driver set up and what the device has consumed and produced. The rings themselves are in guest
 * memory.
 *
 * @param active whether the queue was activated (the device was running)
 * @param eventIdx VIRTIO_F_EVENT_IDX was negotiated
 * @param indirect VIRTIO_RING_F_INDIRECT_DESC was negotiated
 * @param signalledUsed the used index at the last interrupt (EVENT_IDX suppression)
 * @param signalledValid whether {@code signalledUsed} has been set since activation
 */
public record VirtqueueState(
    int size,
    boolean ready,
    long descTable,
    long availRing,
    long usedRing,
    boolean active,
    boolean eventIdx,
    boolean indirect,
    int nextAvail,
    int nextUsed,
    int signalledUsed,
    boolean signalledValid) {}
