/**
 * virtio-rng: entropy from the host's SecureRandom, rate limited. Uses the virtio queue and device
 * base and the rate limiter.
 */
package dev.hearth.vmm.devices.virtio.rng;
