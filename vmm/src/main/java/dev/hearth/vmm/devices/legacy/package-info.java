/**
 * Legacy devices on the buses: the 16550 serial console and its output, the i8042 (reset) and
 * Firecracker's boot timer. Uses the buses and interrupt lines.
 */
package dev.hearth.vmm.devices.legacy;
