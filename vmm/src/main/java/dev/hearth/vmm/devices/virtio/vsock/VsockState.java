package dev.hearth.vmm.devices.virtio.vsock;

/**
 * A {@link VirtioVsock}'s state beyond its transport and queues. Connections are not kept: as in
 * Firecracker, a restored device sends the guest VIRTIO_VSOCK_EVENT_TRANSPORT_RESET, and the guest
 * drops its connections and may open new ones.
 *
 * @param guestCid the CID the guest knows itself by; the restored device must have the same one
 */
public record VsockState(long guestCid) {}
