/**
 * virtio-blk: a file-backed disk with a rate limiter; every request from the guest is
 * bounds-checked against the disk. Uses the virtio queue and device base, the rate limiter and
 * guest memory.
 */
package dev.hearth.vmm.devices.virtio.block;
