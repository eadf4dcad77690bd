package dev.hearth.vmm.vm;

import dev.hearth.vmm.devices.virtio.RequestQueueState;
import dev.hearth.vmm.devices.virtio.mmio.MmioTransportState;
import dev.hearth.vmm.devices.virtio.net.NetState;
import dev.hearth.vmm.devices.virtio.vsock.VsockState;
import java.util.Optional;

/**
 * One virtio device of a snapshot: its name (kind and id, e.g. {@code virtio-blk root}), its
 * transport and queues, and the device's own state, in the one of the optionals its kind has.
 *
 * @param requests a virtio-blk's or virtio-rng's
 * @param net a virtio-net's
 * @param vsock the virtio-vsock's
 */
public record VirtioDeviceState(
    String name,
    MmioTransportState transport,
    Optional<RequestQueueState> requests,
    Optional<NetState> net,
    Optional<VsockState> vsock) {}
