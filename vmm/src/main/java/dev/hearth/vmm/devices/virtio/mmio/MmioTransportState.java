package dev.hearth.vmm.devices.virtio.mmio;

import dev.hearth.vmm.devices.virtio.queue.VirtqueueState;
import java.util.List;

/**
 * An {@link MmioTransport}'s registers, whether its device was running (and broken), and its
 * queues. The device's own state is saved by the device.
 *
 * @param activated the driver had set DRIVER_OK and the device was activated
 * @param broken the device had been marked as needing a reset
 */
public record MmioTransportState(
    int deviceFeaturesSel,
    int driverFeaturesSel,
    long driverFeatures,
    int queueSel,
    int status,
    int interruptStatus,
    int configGeneration,
    boolean activated,
    boolean broken,
    List<VirtqueueState> queues) {}
