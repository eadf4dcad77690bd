/**
 * Split virtqueues as rust-vmm's virtio-queue has them: descriptor chains read from guest memory
 * with every index, length and address checked, since each comes from the guest. Uses guest memory
 * only.
 */
package dev.hearth.vmm.devices.virtio.queue;
