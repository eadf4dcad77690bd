/**
 * virtio-net on a host tap: frames both ways, rx and tx rate limiters, MAC addresses and counters.
 * Uses the virtio queue and device base, the rate limiter and the TUN bindings in {@code sys}.
 */
package dev.hearth.vmm.devices.virtio.net;
