package dev.hearth.vmm.devices.virtio.queue;

import dev.hearth.vmm.memory.GuestAddress;

/**
 * One guest buffer of a chain, already checked to lie within guest memory.
 *
 * @param addr where the buffer starts
 * @param len its length in bytes (may be 0)
 * @param writable true for device-writable (driver-readable) buffers
 */
public record Descriptor(GuestAddress addr, int len, boolean writable) {}
