/**
 * The virtio-mmio transport (version 2): registers, feature negotiation, queue set-up and
 * interrupts for any virtio device. Uses the buses, the virtio device interface, queues and guest
 * memory.
 */
package dev.hearth.vmm.devices.virtio.mmio;
