/**
 * virtio-vsock with Firecracker's host side: guest connections to port P reach the Unix socket
 * {@code <uds>_P}, host connections to the socket reach the guest. Uses the virtio queue and device
 * base.
 */
package dev.hearth.vmm.devices.virtio.vsock;
